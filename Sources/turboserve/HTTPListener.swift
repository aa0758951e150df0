import HummingbirdCore

/// The HTTP/1 server every role listens with (kept apart from the configuration module, whose
/// `ServerConfiguration` shares its name with HummingbirdCore's).
enum HTTPListener {
    /// The idle timeout closes slowloris connections (a request head that never completes), trickled bodies
    /// (between chunks) and idle keep-alive connections, never a streaming response; header fields are capped
    /// well below NIO's 80 KiB default.
    static func server(idleTimeoutSeconds: Double) -> HTTPServerBuilder {
        .http1(configuration: .init(
            idleTimeout: .milliseconds(Int64(idleTimeoutSeconds * 1000)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 << 10, maxHeaderListSize: 64 << 10, maxHeaderFieldCount: 100)))
    }
}
