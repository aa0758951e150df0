import ArgumentParser
import Foundation

/// A runtime failure of a command, with its sysexits(3) code: the message goes to stderr as one `error:` line, no
/// usage text (that is for usage errors, exit 64, which ArgumentParser's `ValidationError` keeps).
struct CLIFailure: Error, CustomStringConvertible {
    /// The sysexits codes the CLI uses.
    enum Code: Int32 {
        /// The input data was wrong (a bad image, a request the model refuses).
        case dataError = 65
        /// An input file does not exist or cannot be read.
        case noInput = 66
        /// A service the command needs is unavailable (the port is taken, the engine did not start).
        case unavailable = 69
        /// An internal failure (the generation failed).
        case software = 70
        /// An output file could not be created.
        case cantCreate = 73
        /// The configuration is invalid.
        case config = 78
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }

    /// Runs a command body: a `CLIFailure` prints `error: <message>` and exits with its code; everything else
    /// (ArgumentParser's own errors, `ExitCode`) passes through unchanged.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            throw ExitCode(failure.code.rawValue)
        }
    }
}

/// Paths the user typed are relative to the directory they typed them in. `scripts/turboserve` changes to the
/// repository root before it runs the binary and passes the caller's directory in `TURBOSERVE_CALLER_CWD`; run
/// directly, the process's own directory is the caller's.
enum CallerPaths {
    static func resolve(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        guard !expanded.hasPrefix("/") else { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        let base = environment["TURBOSERVE_CALLER_CWD"].flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(expanded).standardizedFileURL.path
    }
}
