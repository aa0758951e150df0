import Artifacts
import Foundation
import Logging
import TurboServeDomain

/// Gives the engine (a separate process that opens its input image by path) a local file for each job's upload.
/// A backend with local files (the directory default) hands over its own file: the spec goes through unchanged and
/// nothing is copied. Any other backend's upload is downloaded into `scratch`, and the spec the engine sees names
/// that copy; the worker removes the copies once the admit plan returns (the engine reads the image while it
/// admits). An image path that is not one of the store's artifacts (a caller's own file, `turboserve generate`) is
/// passed through as it is.
///
/// A download that fails is logged and the job keeps its reference: the engine then refuses the job's image with
/// its own error, which fails that job alone.
struct InputStaging {
    let artifacts: any ArtifactStore
    let scratch: URL
    let logger: Logger?

    /// Specs to hand the engine, and the staged copies to remove after the plan.
    struct Staged {
        var jobs: [JobID: ValidatedJob]
        var files: [URL]

        func removeFiles() {
            for file in files { try? FileManager.default.removeItem(at: file) }
        }
    }

    func stage(_ jobs: [JobID: ValidatedJob]) async -> Staged {
        var staged = Staged(jobs: jobs, files: [])
        for (id, spec) in jobs {
            guard let reference = spec.imagePath, let key = artifacts.key(forReference: reference, kind: .upload) else { continue }
            do {
                let copy = try await artifacts.localCopy(of: key, in: scratch)
                if copy.isStaged { staged.files.append(copy.url) }
                staged.jobs[id] = spec.reading(imageAt: copy.url.path)
            } catch {
                logger?.warning("could not stage a job's input image", metadata: ["job": "\(id)", "error": "\(error)"])
            }
        }
        return staged
    }
}

extension ValidatedJob {
    /// This job with its input image read from `path`.
    func reading(imageAt path: String) -> ValidatedJob {
        ValidatedJob(
            model: model, task: task, prompt: prompt, imagePath: path, width: width, height: height, frames: frames,
            fps: fps, steps: steps, seed: seed, sampler: sampler, sigmaMax: sigmaMax, boundary: boundary,
            attention: attention, quantLinear: quantLinear, adaptiveResolution: adaptiveResolution,
            negativePrompt: negativePrompt, priority: priority, deadlineSeconds: deadlineSeconds)
    }
}
