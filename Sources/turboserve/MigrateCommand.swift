import ArgumentParser
import Foundation

/// `turboserve migrate`: applies the store's pending migrations (`storage.database`) and exits — the Kubernetes
/// migration Job, run before api and worker pods start. Safe to run while other pods migrate too (the store takes
/// a lock), and a no-op on an up-to-date database.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the job store's pending migrations (storage.database) and exit.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let settings = try options.load()
        _ = try await Composition.build(.migrate, settings: settings)
        print("the job store at \(StoreConnection.redacted(settings.storage.database)) is up to date")
    }
}
