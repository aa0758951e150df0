import ArgumentParser
import Foundation
import EngineBridge
import TurboServeDomain

/// `turboserve models`: the catalog, and which models are installed in the models directory (read from their
/// `turboserve.json` manifests — no engine start needed).
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List known models and which are installed.")

    @Option(name: .customLong("data-dir"), help: "Where models live (models/ under it), unless TURBOSERVE_MODELS_DIR is set.") var dataDirectory = "./var"

    func run() async throws {
        let directory = EngineLocator.modelsDirectory(dataDirectory: dataDirectory)
        let installed = Self.installed(in: directory)
        print("models directory: \(directory)")
        let header = ["model", "task", "experts", "sizes", "installed"]
        var rows = [header]
        for model in ModelCatalog.all {
            let state = installed[model.id].map { "yes (\($0))" } ?? (model.isTiny ? "no (built on first engine start)" : "no")
            rows.append([model.id, model.task.rawValue, model.experts.map(\.rawValue).joined(separator: "+"),
                         model.resolutions.map(\.name).joined(separator: ","), state])
        }
        for id in installed.keys.sorted() where ModelCatalog.descriptor(for: id) == nil {
            rows.append([id, "?", "?", "?", "yes (\(installed[id]!)), not in the catalog"])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    /// Model id → source ("diffusers" / "turbodiffusion") for every folder with a manifest.
    static func installed(in directory: String) -> [String: String] {
        guard let folders = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var found: [String: String] = [:]
        for folder in folders {
            let manifest = URL(fileURLWithPath: directory).appendingPathComponent(folder).appendingPathComponent("turboserve.json")
            guard let data = try? Data(contentsOf: manifest),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let id = object["id"] as? String else { continue }
            found[id] = object["source"] as? String ?? "diffusers"
        }
        return found
    }
}
