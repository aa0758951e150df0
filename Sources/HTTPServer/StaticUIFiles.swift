import Foundation
import Hummingbird
import TurboServeDomain

/// The web UI's static files (`ui/` in the repository: `index.html`, `app.css`, `app.js`, …), served at `/` and
/// `/ui/{file}` from a directory chosen at startup. Files are read on every request, so an edited file shows on
/// the next reload.
///
/// Guarantees: only a plain file name directly inside the directory is served — letters, digits, `.`, `_`, `-`,
/// not starting with a dot, with a known extension — and the resolved path (symlinks followed) must still lie
/// inside the directory; anything else is a 404. Without a directory every UI route is a 404 that says how to
/// install it.
public struct StaticUIFiles: Sendable {
    public let directory: URL?

    public init(directory: URL?) {
        self.directory = directory?.standardizedFileURL.resolvingSymlinksInPath()
    }

    static let allowedCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json",
    ]

    /// The UI directory: `TURBOSERVE_UI_DIR` if set, else the first `ui/` holding an `index.html` in the working
    /// directory or above the executable (a build under `.build/` finds the repository's `ui/`). Nil when none.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        executable: URL = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
    ) -> URL? {
        if let explicit = environment["TURBOSERVE_UI_DIR"], !explicit.isEmpty { return URL(fileURLWithPath: explicit, isDirectory: true) }
        var candidates = [workingDirectory.appendingPathComponent("ui")]
        var folder = executable.deletingLastPathComponent()
        while folder.path != "/" && !folder.path.isEmpty {
            candidates.append(folder.appendingPathComponent("ui"))
            folder = folder.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }

    /// The file for a request name and its content type, or nil when the name is not servable (see the type's
    /// guarantees).
    public func resolve(_ name: String) -> (path: String, contentType: String)? {
        guard let directory else { return nil }
        guard !name.hasPrefix("."), name.contains("."), name.allSatisfy(Self.allowedCharacters.contains),
              let ext = name.split(separator: ".").last.map({ String($0).lowercased() }),
              let contentType = Self.contentTypes[ext] else { return nil }
        let file = directory.appendingPathComponent(name).resolvingSymlinksInPath()
        guard file.path.hasPrefix(directory.path + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return (file.path, contentType)
    }

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/") { _, context in try await serve("index.html", context: context) }
        router.get("ui/{file}") { _, context in try await serve(try context.parameters.require("file"), context: context) }
    }

    private func serve<Context: RequestContext>(_ name: String, context: Context) async throws -> Response {
        guard directory != nil else {
            throw APIError(TurboServeError(.notFound, field: "file", "the web UI is not installed here: start the server from the repository or set TURBOSERVE_UI_DIR to its ui/ folder"))
        }
        guard let (path, contentType) = resolve(name) else {
            throw APIError(TurboServeError(.notFound, field: "file", "no UI file named '\(name)'"))
        }
        let body = try await FileIO().loadFile(path: path, context: context)
        return Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-cache"], body: body)
    }
}
