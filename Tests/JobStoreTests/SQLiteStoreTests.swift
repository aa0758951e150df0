import Foundation
import GRDB
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The embedded store when another connection holds its file locked past the busy timeout: every call is the typed
/// outage `JobStoreUnavailable` (what workers log as "the job store is unavailable" and retry, and what the API
/// answers 503), never a raw SQLite error; nothing half-written; the store works again once the lock is gone.
struct SQLiteStoreTests {
    @Test func aFileLockedPastTheBusyTimeoutIsAnOutageAndPassesWithTheLock() async throws {
        let folder = try ScratchFolder("turboserve-locked")
        defer { folder.remove() }
        let path = folder.file("jobs.sqlite").path
        let store = try SQLiteJobStore(path: path, busyTimeout: .milliseconds(200))
        _ = try await store.create(NewJob(id: "before", spec: Fixtures.spec()))

        // Another connection takes the file's write lock and holds it, on a thread of its own, until released.
        let locker = try DatabaseQueue(path: path)
        let release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        await withCheckedContinuation { (locked: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                try? locker.inDatabase { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    locked.resume()
                    release.wait()
                    try db.execute(sql: "COMMIT")
                }
                finished.signal()
            }
        }
        do {
            _ = try await store.create(NewJob(id: "during", spec: Fixtures.spec()))
            Issue.record("a create went through a locked file")
        } catch let outage as JobStoreUnavailable {
            #expect(outage.backend == "sqlite" && outage.description.contains("job store is unavailable"))
        }
        await #expect(throws: JobStoreUnavailable.self) {
            _ = try await store.heartbeat(worker: "w", holding: [], lease: .seconds(30), activity: nil)
        }
        release.signal()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { finished.wait(); done.resume() }
        }

        #expect(try await store.get("during") == nil, "the refused create left nothing behind")
        _ = try await store.create(NewJob(id: "after", spec: Fixtures.spec()))
        #expect(try await store.get("after")?.phase == .queued)
    }
}
