import JobStore
import ServiceLifecycle

/// Routes the store's signals to this process's workers: `queued` wakes them to claim (the store's exclusive claim
/// gives each job to one worker in the fleet), `cancelled` makes the holder free the job's engine state at once.
/// Every `pollInterval` it wakes them anyway, so a lost signal (a dropped notification, a reconnect) only delays a
/// claim. With `signals` nil (`worker --wake polling`, the benchmark's baseline) it only polls. A `Service`: stops
/// on graceful shutdown.
struct SignalDispatcher: Service {
    let signals: (any JobSignals)?
    let pool: WorkerPool
    let pollInterval: Duration

    func run() async throws {
        let (signals, pool, pollInterval) = (self.signals, self.pool, self.pollInterval)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let signals {
                    group.addTask {
                        for await signal in signals.subscribe() {
                            switch signal {
                            case .queued: pool.wake()
                            case .cancelled(let id): pool.cancel(id)
                            case .changed: break
                            }
                        }
                    }
                }
                group.addTask {
                    while (try? await Task.sleep(for: pollInterval)) != nil { pool.wake() }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
