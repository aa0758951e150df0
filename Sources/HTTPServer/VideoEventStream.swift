import JobStore
import Hummingbird
import ServiceLifecycle
import TurboServeDomain

/// The body of one `GET /v1/videos/{id}/events` response, as Server-Sent Events.
///
/// Guarantees:
/// - the first event is `progress` with the job as first read; then one `progress` per change (a record equal to the
///   last sent, or older than it, is skipped); once the job is terminal, one `done` with its id and status, and the
///   stream ends;
/// - while nothing changes, a `: keep-alive` comment every `heartbeat` (not an event: SSE readers skip comments), so
///   a proxy keeps the stream open and a client that left is noticed at the next write, which ends the response;
/// - on graceful shutdown (SIGTERM) the stream ends at once without `done`, so no open stream holds the server up;
///   the client reads the job again or reconnects (the web UI does both);
/// - when the stream ends or the client goes, the producer and its heartbeat stop and the subscription is dropped.
/// Thread-safety: the stream's continuation is the only shared state; `AsyncStream` makes its writes safe.
struct VideoEventStream {
    let heartbeat: Duration
    /// One `progress` event's bytes for a record (the video object as the API shows it).
    let progressEvent: @Sendable (JobRecord) -> ByteBuffer

    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    static func doneEvent(_ record: JobRecord) -> ByteBuffer {
        ByteBuffer(string: "event: done\ndata: {\"id\":\"\(record.id.rawValue)\",\"status\":\"\(record.phase.apiStatus)\"}\n\n")
    }

    /// The events of a job first read as `first`, followed through `updates` (subscribed before `first` was read).
    func events(first: JobRecord, updates: AsyncStream<JobRecord>) -> AsyncStream<ByteBuffer> {
        let (body, output) = AsyncStream.makeStream(of: ByteBuffer.self)
        let heartbeat = self.heartbeat, progressEvent = self.progressEvent
        let producer = Task {
            output.yield(progressEvent(first))
            guard !first.phase.isTerminal else {
                output.yield(Self.doneEvent(first))
                output.finish()
                return
            }
            let beats = Task {
                while true {
                    try await Task.sleep(for: heartbeat)
                    output.yield(Self.keepAlive)
                }
            }
            defer { beats.cancel() }
            let last = await cancelWhenGracefulShutdown {
                var last = first
                for await record in updates {
                    guard record != last, record.updatedAt >= last.updatedAt else { continue }
                    last = record
                    output.yield(progressEvent(record))
                    if record.phase.isTerminal { break }
                }
                return last
            }
            if !Task.isShuttingDownGracefully || last.phase.isTerminal { output.yield(Self.doneEvent(last)) }
            output.finish()
        }
        output.onTermination = { _ in producer.cancel() }
        return body
    }
}
