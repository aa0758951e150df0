import Foundation

/// A folder of one test's own under the system temporary directory, for everything the test writes to disk.
///
/// Guarantees:
/// - Unique: its name is `prefix`, a dash and a fresh UUID, so no two folders share a path (in this run or a
///   parallel one), and a test never writes straight into the shared temporary directory.
/// - Created on init: `url` names an existing, empty folder when `init` returns; `init` throws when it cannot be
///   made.
/// - Removed, with everything in it, by `remove()` (idempotent; a folder already gone is fine), and at the latest
///   when the last reference to the instance goes away. As a stored property of a suite that is when the test ends
///   (Swift Testing makes one suite instance per test, or per case of a parameterized test). A folder local to a
///   test is removed by `withScratchFolder` when its body returns or throws, or by `defer { folder.remove() }`:
///   do not count on the end of a local's scope, which may come at its last use. A crashed process leaves the
///   folder behind.
/// - Not thread-shared: one folder belongs to one test. The type is `Sendable` only because it holds nothing but
///   its URL, so that the test's own tasks can read paths in it; nothing orders what they write into it.
public final class ScratchFolder: Sendable {
    /// The folder (exists until `remove()`).
    public let url: URL

    /// Makes `<temporary directory>/<prefix>-<UUID>`. `prefix` says whose folder it is, e.g. "turboserve-ui".
    public init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    /// The folder's file-system path.
    public var path: String { url.path }

    /// Where `name` (a file or folder name, or a relative path such as "a/b.txt") is inside the folder. Creates
    /// nothing: for a file the code under test writes itself, or a path that must not exist yet.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Deletes the folder and everything in it. Safe to call more than once.
    public func remove() { try? FileManager.default.removeItem(at: url) }

    deinit { remove() }
}

/// Runs `body` with a fresh `ScratchFolder` and removes the folder when `body` returns or throws.
public func withScratchFolder<Result>(_ prefix: String, _ body: (ScratchFolder) throws -> Result) throws -> Result {
    let folder = try ScratchFolder(prefix)
    defer { folder.remove() }
    return try body(folder)
}
