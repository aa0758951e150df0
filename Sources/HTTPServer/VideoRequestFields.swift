import Foundation
import TurboServeDomain

/// The fields of a create request, from JSON or multipart alike, normalised to text, and their typed reading into
/// a `JobSpec`. Accepts OpenAI's fields (`prompt`, `model`, `size`, `seconds`), TurboDiffusion's knobs (`steps`,
/// `seed`, `aspect_ratio`, `resolution`, `num_frames`, `sampler`, `sigma_max`, `boundary`, `attention`,
/// `quant_linear`, `adaptive_resolution`, `priority`, `deadline_seconds`) and vLLM-Omni's form fields (`width`,
/// `height`, `num_frames`, `fps`, `num_inference_steps`, `seed`, `negative_prompt`). Unknown fields are ignored,
/// as OpenAI's SDKs may add some; a field with the wrong type is an error that names it.
///
/// Hostile input: no value traps. Numbers are parsed with range checks (`1e19`, `-1e300`, `NaN`, `Infinity`, as
/// JSON numbers or strings, are `invalid_value` naming the field); a value with a NUL character or invalid UTF-8
/// is refused naming its field; messages quote at most 64 characters of a value.
struct VideoRequestFields: Sendable {
    var values: [String: String]

    /// Text fields as they came; NUL characters are refused naming the field.
    init(values: [String: String]) throws(TurboServeError) {
        for (key, value) in values where value.unicodeScalars.contains("\u{0}") {
            throw TurboServeError(.invalidValue, field: JobValidator.quote(key), "\(JobValidator.quote(key)) must not contain NUL characters")
        }
        self.values = values
    }

    /// Multipart text parts; a part that is not valid UTF-8 is refused naming the field.
    init(form: MultipartFormData) throws(TurboServeError) {
        var values: [String: String] = [:]
        for part in form.parts where part.filename == nil {
            guard let text = String(validating: part.data, as: UTF8.self) else {
                throw TurboServeError(.invalidValue, field: JobValidator.quote(part.name), "\(JobValidator.quote(part.name)) must be valid UTF-8 text")
            }
            values[part.name] = text
        }
        try self.init(values: values)
    }

    /// Reads a JSON object body. Nested objects and arrays are refused with the field's name; so are invalid
    /// UTF-8 and the non-JSON tokens `NaN` / `Infinity` (located by `JSONBodyDiagnosis`).
    init(json data: some Collection<UInt8>) throws(TurboServeError) {
        let bytes = Array(data)
        if let problem = JSONBodyDiagnosis.problem(in: bytes) { throw problem }
        let object: [String: JSONScalar]
        do { object = try JSONDecoder().decode([String: JSONScalar].self, from: Data(bytes)) } catch {
            throw TurboServeError(.malformedRequest, "the request body is not a valid JSON object")
        }
        var values: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case .null: continue
            case let .text(text): values[key] = text
            case .unsupported: throw TurboServeError(.invalidValue, field: JobValidator.quote(key), "\(JobValidator.quote(key)) must be a string, number or boolean")
            }
        }
        try self.init(values: values)
    }

    /// One JSON value of a flat request object, as text (`4`, `0.9`, `true`, `"a fox"` → `a fox`).
    enum JSONScalar: Decodable {
        case text(String)
        case null
        case unsupported

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .text(value ? "true" : "false") }
            else if let value = try? container.decode(Int64.self) { self = .text(String(value)) }
            else if let value = try? container.decode(Double.self) { self = .text(String(value)) }
            else if let value = try? container.decode(String.self) { self = .text(value) }
            else { self = .unsupported }
        }
    }

    func spec(imagePath: String?) throws(TurboServeError) -> JobSpec {
        let frames = try int("num_frames", or: "frames")
        let steps = try int("steps", or: "num_inference_steps")
        return JobSpec(
            prompt: values["prompt"],
            model: values["model"],
            imagePath: imagePath,
            size: values["size"],
            width: try int("width"),
            height: try int("height"),
            resolution: values["resolution"],
            aspectRatio: values["aspect_ratio"],
            frames: frames,
            seconds: try double("seconds"),
            fps: try int("fps"),
            steps: steps,
            seed: try int64("seed"),
            sampler: values["sampler"],
            sigmaMax: try double("sigma_max"),
            boundary: try double("boundary"),
            attention: values["attention"],
            quantLinear: try bool("quant_linear"),
            adaptiveResolution: try bool("adaptive_resolution"),
            negativePrompt: values["negative_prompt"],
            priority: values["priority"],
            deadlineSeconds: try double("deadline_seconds"))
    }

    private func int(_ field: String) throws(TurboServeError) -> Int? {
        guard let text = values[field] else { return nil }
        if let value = Int(text.trimmed) { return value }
        // Checked before the conversion: `Int(1e19)` traps, `Int(.nan)` too.
        if let value = Double(text.trimmed), value.isFinite, value == value.rounded(), abs(value) < 1e15 { return Int(value) }
        throw TurboServeError(.invalidValue, field: field, "\(field) must be an integer; got '\(JobValidator.quote(text))'")
    }

    /// The first of two synonymous fields that is present.
    private func int(_ field: String, or synonym: String) throws(TurboServeError) -> Int? {
        if let value = try int(field) { return value }
        return try int(synonym)
    }

    private func int64(_ field: String) throws(TurboServeError) -> Int64? {
        try int(field).map(Int64.init)
    }

    private func double(_ field: String) throws(TurboServeError) -> Double? {
        guard let text = values[field] else { return nil }
        guard let value = Double(text.trimmed), value.isFinite else {
            throw TurboServeError(.invalidValue, field: field, "\(field) must be a finite number; got '\(JobValidator.quote(text))'")
        }
        return value
    }

    private func bool(_ field: String) throws(TurboServeError) -> Bool? {
        guard let text = values[field] else { return nil }
        switch text.trimmed.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw TurboServeError(.invalidValue, field: field, "\(field) must be true or false; got '\(JobValidator.quote(text))'")
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
