import Foundation

extension BenchReport {
    /// Writes `results.json`, `summary.csv`, `jobs.csv`, (`sweep.csv`), `timeline.svg`, `timeline-<policy>.svg`,
    /// `batch-sizes.svg`, `responses.svg` (a closed loop's runs) and (`sweep.svg`) into `directory`, creating it.
    /// Returns the files written.
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [(String, String)] = [
            ("results.json", String(decoding: try resultsJSON(), as: UTF8.self)),
            ("summary.csv", summaryCSV()),
            ("jobs.csv", jobsCSV()),
            ("timeline.svg", TimelineFigure.svg(results, title: "Engine timeline, \(workload)")),
        ]
        for result in results {
            files.append(("timeline-\(result.policy).svg", TimelineFigure.svg([result], title: "Engine timeline, \(workload), \(result.policy)")))
        }
        if !summaries.isEmpty {
            files.append(("batch-sizes.svg", BatchSizeFigure.svg(summaries, title: "Step batch sizes, \(workload)")))
            files.append(("responses.svg", ResponseFigure.svg(results, floor: floor, title: "Response times, \(workload)")))
        }
        if let sweep {
            files.append(("sweep.csv", sweepCSV(sweep)))
            files.append(("sweep.svg", SweepFigure.svg(sweep, policies: policies, target: target, title: "SLO attainment vs arrival rate, \(workload)")))
        }
        return try files.map { name, contents in
            let url = directory.appendingPathComponent(name)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
    }

    /// `{ policy: { mean_response_s, p95_response_s, p99_response_s, slo_attainment, busy_fraction, model_loads,
    /// jobs_completed, …, ratio_to_serial: {…}[, sweep: [{rate_per_s, slo_attainment, …}], goodput_per_s] } }`.
    public func resultsJSON() throws -> Data {
        let reference = summaries.first { $0.policy == "serial" }
        var object: [String: Any] = [:]
        for summary in summaries {
            guard var entry = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any] else { continue }
            if let reference {
                entry["ratio_to_serial"] = [
                    "mean_response": ratio(summary.meanResponseSeconds, reference.meanResponseSeconds),
                    "p95_response": ratio(summary.p95ResponseSeconds, reference.p95ResponseSeconds),
                    "p99_response": ratio(summary.p99ResponseSeconds, reference.p99ResponseSeconds),
                    "slo_attainment": ratio(summary.sloAttainment, reference.sloAttainment),
                    "throughput": ratio(summary.throughputPerHour, reference.throughputPerHour),
                    "busy_fraction": ratio(summary.busyFraction, reference.busyFraction),
                    "energy_wh": ratio(summary.energyWh, reference.energyWh),
                ]
            }
            if let sweep {
                entry["sweep"] = sweep.points.compactMap { point -> [String: Any]? in
                    guard let run = point.results.first(where: { $0.policy == summary.policy }) else { return nil }
                    let figures = PolicySummary(run, classes: classes)
                    return [
                        "rate_per_s": point.ratePerSecond, "rate_factor": point.rateFactor,
                        "slo_attainment": figures.sloAttainment, "mean_response_s": figures.meanResponseSeconds,
                        "p95_response_s": figures.p95ResponseSeconds, "jobs_arrived": figures.jobsArrived,
                        "jobs_completed": figures.jobsCompleted,
                    ]
                }
                entry["goodput_per_s"] = sweep.goodput(of: summary.policy, target: target)
                entry["goodput_interpolated_per_s"] = sweep.interpolatedGoodput(of: summary.policy, target: target)
                entry["serial_capacity_per_s"] = sweep.capacityPerSecond
            }
            object[summary.policy] = entry
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    func summaryCSV() -> String {
        let header = "policy,jobs_arrived,jobs_completed,mean_response_s,p50_response_s,p95_response_s,p99_response_s,mean_queue_wait_s,p95_queue_wait_s,slo_attainment,"
            + classes.map { "slo_\($0)" }.joined(separator: ",")
            + ",throughput_per_hour,busy_fraction,switching_fraction,model_loads,mean_batch_size,energy_wh,videos_per_wh"
        let rows = summaries.map { s in
            ([s.policy, "\(s.jobsArrived)", "\(s.jobsCompleted)"]
                + [s.meanResponseSeconds, s.p50ResponseSeconds, s.p95ResponseSeconds, s.p99ResponseSeconds, s.meanQueueWaitSeconds, s.p95QueueWaitSeconds, s.sloAttainment].map(Self.number)
                + classes.map { Self.number(s.sloAttainmentByClass[$0] ?? 0) }
                + [s.throughputPerHour, s.busyFraction, s.switchingFraction].map(Self.number)
                + ["\(s.modelLoads)"] + [s.meanBatchSize, s.energyWh, s.videosPerWh].map(Self.number)).joined(separator: ",")
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }

    func jobsCSV() -> String {
        var lines = ["policy,job,class,arrival_s,first_service_s,finished_s,status,response_s,deadline_s,met_deadline,floor_s,user,request"]
        for result in results {
            for job in result.jobs {
                let times: [Double?] = [job.arrival, job.firstService, job.finished]
                let outcome: [Double?] = [job.response, job.deadline]
                let fields: [String] = [result.policy, job.id, job.className] + times.map { $0.map(Self.number) ?? "" }
                    + [job.status.rawValue] + outcome.map { $0.map(Self.number) ?? "" } + [job.metDeadline ? "1" : "0"]
                    + [floor?.seconds(of: job).map(Self.number) ?? "", job.user.map(String.init) ?? "", job.request.map(String.init) ?? ""]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func sweepCSV(_ sweep: Sweep) -> String {
        var lines = ["policy,rate_factor,rate_per_s,slo_attainment,mean_response_s,p95_response_s,jobs_arrived,jobs_completed"]
        for point in sweep.points {
            for run in point.results {
                let s = PolicySummary(run, classes: classes)
                lines.append([run.policy, Self.number(point.rateFactor), Self.number(point.ratePerSecond), Self.number(s.sloAttainment),
                              Self.number(s.meanResponseSeconds), Self.number(s.p95ResponseSeconds), "\(s.jobsArrived)", "\(s.jobsCompleted)"].joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func ratio(_ value: Double, _ reference: Double) -> Double { reference != 0 ? value / reference : 0 }
    static func number(_ value: Double) -> String { String(format: "%.6g", value) }
}
