import Hummingbird
import TurboServeDomain

/// `POST /v1/operations/engines/restart`: an operator's way out of a stalled engine. Every worker of this process
/// kills its engine process and puts the jobs the engine held back in its queue at no attempt's cost
/// (`engine_restarted`); the next plan starts a fresh engine. Operator-only like the rest of `/v1/operations`
/// (`APIKeyMiddleware`). Answers `{"object": "engine.restart", "engines": n}` with the number of engines
/// restarted (0 on an API-only process or before any engine has started).
struct EngineRestartController<Context: RequestContext>: Sendable {
    let restart: @Sendable () async -> Int

    struct Restarted: Encodable, Sendable {
        let object = "engine.restart"
        let engines: Int
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("operations/engines/restart") { request, context in
            try JSONCoding.encoder.encode(Restarted(engines: await restart()), from: request, context: context)
        }
    }
}
