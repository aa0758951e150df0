import SchedulingCore
import Foundation

/// A benchmark workload as the shared files describe it: a class mix, an arrival process and the calibration it is
/// measured against. `classes_from` and `calibration` are resolved relative to the workload file's folder, so the
/// shared files are read as they are; the calibration named `calibration-rtx5090.json` is the repository's own copy
/// (`Calibration.rtx5090`) wherever the file is, so the workloads under `bench/` need nothing outside the repository.
public struct Workload: Sendable {
    public enum Arrivals: Sendable, Hashable {
        /// `users` each submit a request, wait for the video, think (exponential, mean `thinkSeconds`), repeat;
        /// nobody submits after `durationSeconds`.
        case closedLoop(users: Int, thinkSeconds: Double, durationSeconds: Double, seed: UInt64)
        /// Open-loop arrivals at a mean rate for `durationSeconds`: Poisson, or bursty / diurnal as `shape` says.
        case poisson(ratePerSecond: Double, durationSeconds: Double, seed: UInt64, shape: ArrivalShape = ArrivalShape())
        /// One Poisson run per factor, each at `factor ×` the serial policy's capacity.
        case poissonSweep(rateFactors: [Double], durationSeconds: Double, seed: UInt64)

        public var durationSeconds: Double {
            switch self {
            case let .closedLoop(_, _, d, _), let .poisson(_, d, _, _), let .poissonSweep(_, d, _): d
            }
        }

        public var seed: UInt64 {
            switch self {
            case let .closedLoop(_, _, _, s), let .poisson(_, _, s, _), let .poissonSweep(_, _, s): s
            }
        }

        /// The same arrivals with another seed (`turboserve bench --seed`).
        public func reseeded(_ seed: UInt64) -> Arrivals {
            switch self {
            case let .closedLoop(u, t, d, _): .closedLoop(users: u, thinkSeconds: t, durationSeconds: d, seed: seed)
            case let .poisson(r, d, _, shape): .poisson(ratePerSecond: r, durationSeconds: d, seed: seed, shape: shape)
            case let .poissonSweep(f, d, _): .poissonSweep(rateFactors: f, durationSeconds: d, seed: seed)
            }
        }
    }

    public var name: String
    public var description: String
    public var arrivals: Arrivals
    public var classes: [WorkloadClass]
    public var calibration: Calibration
    /// Fraction of jobs that must meet their deadline for a sweep rate to count towards goodput.
    public var sloAttainmentTarget: Double

    public init(name: String, description: String = "", arrivals: Arrivals, classes: [WorkloadClass], calibration: Calibration, sloAttainmentTarget: Double = 0.9) {
        self.name = name
        self.description = description
        self.arrivals = arrivals
        self.classes = classes
        self.calibration = calibration
        self.sloAttainmentTarget = sloAttainmentTarget
    }

    /// Bounds a workload file must keep, so that a typo cannot make a run that never ends or fills memory: a run of
    /// at most 7 days, at most this many closed-loop users, an open loop's mean rate × duration at most this many
    /// arrivals, and sweep rates at most this many times the serial policy's capacity.
    public static let maxDurationSeconds: Double = 7 * 86_400
    public static let maxUsers = 100_000
    public static let maxArrivals = 1_000_000
    public static let maxRateFactor: Double = 100

    /// Reads a workload file. Throws `WorkloadError` naming the file and the field when something is missing or out of
    /// range (the bounds above, a class the server would refuse, an `slo_factor` that is not > 0).
    public static func load(from url: URL) throws -> Workload {
        let folder = url.deletingLastPathComponent()
        let file = try decode(WorkloadFile.self, from: url)
        let classes: [WorkloadClass]
        if let inline = file.classes {
            classes = inline
        } else if let other = file.classesFrom {
            let source = resolve(other, besides: folder)
            guard let inherited = try decode(WorkloadFile.self, from: source).classes else {
                throw WorkloadError(file: source.path, message: "has no `classes` to take")
            }
            classes = inherited
        } else {
            throw WorkloadError(file: url.path, message: "needs `classes` or `classes_from`")
        }
        guard !classes.isEmpty, classes.allSatisfy({ $0.weight >= 0 && $0.weight.isFinite }), classes.contains(where: { $0.weight > 0 }),
              classes.map(\.weight).reduce(0, +).isFinite else {
            throw WorkloadError(file: url.path, message: "`classes` must be non-empty with finite, non-negative weights, not all zero")
        }
        if let bad = classes.first(where: { !($0.sloFactor > 0 && $0.sloFactor.isFinite) }) {
            throw WorkloadError(file: url.path, message: "class '\(bad.name)' has `slo_factor` \(bad.sloFactor); it must be a number > 0 (the deadline is this × the class's isolated latency)")
        }
        // Every class must be a request the server would accept: the simulator turns each arrival into one.
        for workloadClass in classes {
            do { _ = try workloadClass.validatedJob(seed: 0, deadlineSeconds: nil) } catch {
                throw WorkloadError(file: url.path, message: "class '\(workloadClass.name)' is not a valid request: \(error)")
            }
        }
        let calibration = file.calibration == Calibration.rtx5090Name
            ? Calibration.rtx5090 : try decode(Calibration.self, from: resolve(file.calibration, besides: folder))
        return Workload(
            name: file.name, description: file.description ?? "", arrivals: try file.arrivals.resolved(file: url.path),
            classes: classes, calibration: calibration, sloAttainmentTarget: file.sloAttainmentTarget ?? 0.9)
    }

    /// A path a workload file names: absolute as written, else relative to the file's folder.
    static func resolve(_ path: String, besides folder: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
    }

    /// Reads and decodes a workload or calibration file; `WorkloadError` (`unreadable` when it cannot be read).
    static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WorkloadError(file: url.path, message: "cannot be read (\(error.localizedDescription))", unreadable: true)
        }
        do { return try JSONDecoder().decode(type, from: data) } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw WorkloadError(file: url.path, message: "is missing `\(path)`")
        } catch {
            throw WorkloadError(file: url.path, message: "is not a valid workload/calibration file: \(error)")
        }
    }
}

/// A workload or calibration file that cannot be used, with the file and the reason. `unreadable` when the file
/// could not be read at all (missing, a folder, no permission), as opposed to read and refused.
public struct WorkloadError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public let unreadable: Bool
    public var description: String { "\(file) \(message)" }

    public init(file: String, message: String, unreadable: Bool = false) {
        self.file = file
        self.message = message
        self.unreadable = unreadable
    }
}

/// The on-disk shape of a workload file.
struct WorkloadFile: Decodable {
    struct ArrivalsFile: Decodable {
        var kind: String
        var users: Int?
        var thinkSecondsMean: Double?
        var durationSeconds: Double
        var rngSeed: UInt64
        var rateFactors: [Double]?
        var ratePerSecond: Double?
        /// `poisson` only: coefficient of variation of inter-arrival times (default 1), and a diurnal cycle.
        var cv: Double?
        var peakToTrough: Double?
        var periodSeconds: Double?
        enum CodingKeys: String, CodingKey {
            case kind, users, thinkSecondsMean = "think_s_mean", durationSeconds = "duration_s", rngSeed = "rng_seed"
            case rateFactors = "rate_factors", ratePerSecond = "rate_per_s"
            case cv, peakToTrough = "peak_to_trough", periodSeconds = "period_s"
        }

        func resolved(file: String) throws -> Workload.Arrivals {
            guard durationSeconds > 0, durationSeconds <= Workload.maxDurationSeconds else {
                throw WorkloadError(file: file, message: "has `arrivals.duration_s` \(durationSeconds); it must be > 0 and at most \(Int(Workload.maxDurationSeconds)) (7 days)")
            }
            switch kind {
            case "closed_loop":
                guard let users, users > 0, users <= Workload.maxUsers, let think = thinkSecondsMean, think >= 0, think.isFinite else {
                    throw WorkloadError(file: file, message: "closed_loop arrivals need `users` from 1 to \(Workload.maxUsers) and a finite `think_s_mean` ≥ 0")
                }
                return .closedLoop(users: users, thinkSeconds: think, durationSeconds: durationSeconds, seed: rngSeed)
            case "poisson":
                guard let rate = ratePerSecond, rate > 0, rate * durationSeconds <= Double(Workload.maxArrivals) else {
                    throw WorkloadError(file: file, message: "poisson arrivals need `rate_per_s` > 0 with `rate_per_s` × `duration_s` at most \(Workload.maxArrivals) arrivals")
                }
                let shape = ArrivalShape(cv: cv ?? 1, peakToTrough: peakToTrough ?? 1, periodSeconds: periodSeconds ?? 86_400)
                guard shape.cv >= 1, shape.peakToTrough >= 1, shape.periodSeconds > 0 else {
                    throw WorkloadError(file: file, message: "poisson arrivals need `cv` ≥ 1, `peak_to_trough` ≥ 1 and `period_s` > 0")
                }
                return .poisson(ratePerSecond: rate, durationSeconds: durationSeconds, seed: rngSeed, shape: shape)
            case "poisson_sweep":
                guard let factors = rateFactors, !factors.isEmpty, factors.allSatisfy({ $0 > 0 && $0 <= Workload.maxRateFactor }) else {
                    throw WorkloadError(file: file, message: "poisson_sweep arrivals need `rate_factors` each > 0 and at most \(Int(Workload.maxRateFactor)) (times the serial policy's capacity)")
                }
                return .poissonSweep(rateFactors: factors, durationSeconds: durationSeconds, seed: rngSeed)
            default:
                throw WorkloadError(file: file, message: "has arrivals.kind '\(kind)'; allowed: closed_loop, poisson, poisson_sweep")
            }
        }
    }

    var name: String
    var description: String?
    var calibration: String
    var arrivals: ArrivalsFile
    var classes: [WorkloadClass]?
    var classesFrom: String?
    var sloAttainmentTarget: Double?

    enum CodingKeys: String, CodingKey {
        case name, description, calibration, arrivals, classes, classesFrom = "classes_from"
        case sloAttainmentTarget = "slo_attainment_target"
    }
}
