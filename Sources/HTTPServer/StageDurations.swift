import JobStore

/// Seconds per stage of a job, derived from its stored event log (`JobStore.events(of:)`), the one record of when
/// each state change happened — vLLM-Omni's clients read these as `stage_durations`.
///
/// Each event is written when the work it names has finished (`admitted` once the prompt and image are encoded,
/// `denoising(k/n)` after step k, `decoding`/`muxing` around the VAE decode, `succeeded` after the MP4 is written),
/// so the interval that ends at an event is charged to that event's stage:
/// - `admit`: from creation to admission done — queue wait, model load and text/image encoding;
/// - `denoise`: every denoising step; `decode`: the VAE decode; `mux`: writing the MP4 and thumbnail;
/// - `retried`: work that ended in a requeue (an engine restart, a preemption) and was done again.
/// The stages present sum to the time from creation to the last event. Pure; rounded to milliseconds.
enum StageDurations {
    static func of(_ events: [StoredJobEvent]) -> [String: Double] {
        var totals: [String: Double] = [:]
        for (previous, event) in zip(events, events.dropFirst()) {
            guard let stage = stage(endedBy: event.to) else { continue }
            totals[stage, default: 0] += max(0, event.at.timeIntervalSince(previous.at))
        }
        return totals.mapValues { ($0 * 1000).rounded() / 1000 }
    }

    /// The stage whose work an event with state `to` (a `JobState.description`) concludes; nil: none (failed,
    /// cancelled).
    static func stage(endedBy to: String) -> String? {
        if to.hasPrefix("denoising") { return "denoise" }
        switch to {
        case "admitted": return "admit"
        case "decoding", "muxing": return "decode"
        case "succeeded": return "mux"
        case "queued": return "retried"
        default: return nil
        }
    }
}
