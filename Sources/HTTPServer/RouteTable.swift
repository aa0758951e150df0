import Foundation

/// The paths and methods of the public API, read from the served OpenAPI document (the test
/// `openAPIDocumentMatchesTheRoutes` keeps that document equal to the router). Used to answer a known path with
/// an unsupported method 405 with `Allow`, as HTTP asks, where the router alone would say 404.
struct RouteTable: Sendable {
    struct Route: Sendable {
        /// Literal segments, or nil for a `{parameter}`.
        let segments: [String?]
        let methods: [String]
    }

    let routes: [Route]

    init(openAPI json: String = OpenAPIDocument.json) {
        let document = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        let paths = document?["paths"] as? [String: Any] ?? [:]
        routes = paths.map { path, item in
            let methods = ((item as? [String: Any]) ?? [:]).keys.filter { $0 != "parameters" }.map { $0.uppercased() }.sorted()
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
            return Route(segments: segments, methods: methods)
        }
    }

    /// The methods `path` supports, or nil when no route has that shape.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/").map(String.init)
        let matching = routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0 == nil || $0 == $1 }
        }
        guard !matching.isEmpty else { return nil }
        // A literal route wins over a parameter at the same place (`/v1/videos/sync` vs `/v1/videos/{id}`).
        let best = matching.max { $0.segments.filter { $0 != nil }.count < $1.segments.filter { $0 != nil }.count }!
        return best.methods
    }
}
