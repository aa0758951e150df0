import Foundation
import HummingbirdTesting
import Testing

extension TestResponse {
    /// The body as a JSON object (the test fails if it is not one).
    func jsonObject(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// The `error` member of an OpenAI-shaped error body.
    func apiError(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try jsonObject(sourceLocation: sourceLocation)["error"] as? [String: Any], sourceLocation: sourceLocation)
    }
}
