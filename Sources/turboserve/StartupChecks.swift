import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `turboserve serve` checks before it starts an engine (seconds of start-up), so a mistake is reported at
/// once with what to change: the port is free, the configuration file exists. And the start-up banner.
enum StartupChecks {
    /// Throws `unavailable` (69) when `host:port` cannot be bound: in use, not an address of this machine, or
    /// needing privileges. Binds and closes a socket with the options the server uses (`SO_REUSEADDR`).
    static func checkPortFree(host: String, port: Int) throws(CLIFailure) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            throw CLIFailure(.unavailable, "cannot listen on \(host):\(port): '\(host)' is not an address of this machine (--host / server.host)")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 else { return }
        switch errno {
        case EADDRINUSE:
            throw CLIFailure(.unavailable, "port \(port) on \(host) is already in use (another turboserve?); choose another with --port, or stop the other server")
        case EACCES:
            throw CLIFailure(.unavailable, "port \(port) needs administrator rights; choose a port above 1023 with --port")
        default:
            throw CLIFailure(.unavailable, "cannot listen on \(host):\(port): \(String(cString: strerror(errno))) (--host / --port)")
        }
    }

    /// Throws `noInput` (66) when `--config` names a file that does not exist.
    static func checkConfigFile(_ path: String?) throws(CLIFailure) {
        guard let path else { return }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIFailure(.noInput, "--config: no readable file at \(path)")
        }
    }

    /// The line printed once the server listens: where the web UI and the API are.
    static func banner(host: String, port: Int, engine: Bool) -> String {
        let shown = ["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
        let base = "http://\(shown):\(port)"
        let everywhere = ["0.0.0.0", "::", ""].contains(host) ? " (listening on all interfaces)" : ""
        return "TurboServe is listening\(everywhere): web UI \(base)/  ·  API \(base)/v1 (OpenAPI \(base)/openapi.json)  ·  metrics /metrics  ·  health /healthz\(engine ? "" : "  ·  no engine: jobs queue")\n"
    }

    /// The line printed after a graceful shutdown (SIGINT / SIGTERM).
    static let goodbye = "TurboServe stopped: requests finished, engines shut down; unfinished jobs resume on the next start. Goodbye.\n"
}
