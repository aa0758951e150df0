import TurboServeDomain

/// The stable code of the `TurboServeError` that `body` throws; nil when it returns, or throws anything else. For
/// asserting which error a verb refuses with (`#expect(await thrownCode { … } == .conflict)`), not merely that it
/// throws.
public func thrownCode(_ body: () async throws -> some Any) async -> TurboServeError.Code? {
    do {
        _ = try await body()
        return nil
    } catch {
        return (error as? TurboServeError)?.code
    }
}
