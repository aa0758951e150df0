import Foundation
import TurboServeDomain

/// The fields of a create request, from JSON, multipart or a urlencoded form alike, normalised to text, and their
/// typed reading into a `JobSpec`. Accepts OpenAI's fields (`prompt`, `model`, `size`, `seconds`), TurboDiffusion's
/// knobs (`steps`, `seed`, `aspect_ratio`, `resolution`, `num_frames`, `sampler`, `sigma_max`, `boundary`,
/// `attention`, `quant_linear`, `adaptive_resolution`, `priority`, `deadline_seconds`) and vLLM-Omni's form fields
/// (`width`, `height`, `num_frames`, `fps`, `num_inference_steps`, `seed`, `negative_prompt`).
///
/// Strictness: an unknown field in a JSON body is 400 `unknown_field` naming it (a typo such as `modle` must not
/// silently run another job). Form bodies (multipart, urlencoded) are what the OpenAI SDK and vLLM-Omni's clients
/// send, with fields of their own; there an unknown field is ignored and reported in `ignored`, which the create
/// answer lists as an adjustment. Two synonyms with different values (`steps` and `num_inference_steps`) are 400
/// `conflicting_fields`; an error about a field names it as the client spelled it (`sentName`).
///
/// Hostile input: no value traps. Numbers are parsed with range checks (`1e19`, `-1e300`, `NaN`, `Infinity`, as
/// JSON numbers or strings, are `invalid_value` naming the field); a value with a NUL character or invalid UTF-8
/// is refused naming its field; messages quote at most 64 characters of a value.
struct VideoRequestFields: Sendable {
    var values: [String: String]
    /// Unknown fields of a form body, dropped from `values` (sorted); the create answer reports them.
    var ignored: [String] = []

    /// Every field a create request may carry (`input_reference` is the image part of a form).
    static let known: Set<String> = [
        "prompt", "model", "size", "seconds", "width", "height", "resolution", "aspect_ratio", "num_frames", "frames",
        "fps", "steps", "num_inference_steps", "seed", "sampler", "sigma_max", "boundary", "attention", "quant_linear",
        "adaptive_resolution", "negative_prompt", "priority", "deadline_seconds", "input_reference",
    ]

    /// Pairs of synonyms: the name the validator uses, and the other spelling a client may send.
    static let synonyms: [(canonical: String, alias: String)] = [("steps", "num_inference_steps"), ("num_frames", "frames")]

    /// Text fields as they came; NUL characters are refused naming the field. `strict`: an unknown field is an
    /// error (JSON); otherwise it is dropped and listed in `ignored` (forms).
    init(values: [String: String], strict: Bool = true) throws(TurboServeError) {
        for (key, value) in values where value.unicodeScalars.contains("\u{0}") {
            throw TurboServeError(.invalidValue, field: JobValidator.quote(key), "\(JobValidator.quote(key)) must not contain NUL characters")
        }
        let unknown = values.keys.filter { !Self.known.contains($0) }.sorted()
        if strict, let first = unknown.first {
            throw TurboServeError(
                .unknownField, field: JobValidator.quote(first),
                "unknown field '\(JobValidator.quote(first))'\(Self.suggestion(for: first)); the fields of a create request are: \(Self.known.subtracting(["input_reference"]).sorted().joined(separator: ", "))")
        }
        self.values = values.filter { Self.known.contains($0.key) }
        ignored = unknown
        for (canonical, alias) in Self.synonyms {
            if let a = self.values[canonical], let b = self.values[alias], a.trimmed != b.trimmed {
                throw TurboServeError(.conflictingFields, field: alias, "\(canonical) and \(alias) are the same setting and disagree (\(JobValidator.quote(a)) vs \(JobValidator.quote(b))); send one of them")
            }
        }
    }

    /// A urlencoded form body (`a=1&b=two+words`), as aiohttp and HTML forms send one without a file.
    init(urlencoded data: some Collection<UInt8>) throws(TurboServeError) {
        guard let text = String(validating: Array(data), as: UTF8.self) else {
            throw TurboServeError(.malformedRequest, "the form body must be valid UTF-8")
        }
        var values: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ raw: Substring) throws(TurboServeError) -> String {
                guard let decoded = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw TurboServeError(.malformedRequest, "the form body has an invalid percent-encoding near '\(JobValidator.quote(String(raw)))'")
                }
                return decoded
            }
            values[try decode(halves[0])] = halves.count > 1 ? try decode(halves[1]) : ""
        }
        try self.init(values: values, strict: false)
    }

    /// What the server adjusted in this request, for the create answer: form fields it ignored, and fields it
    /// accepts but does not use.
    var adjustments: [String] {
        var notes = ignored.map { "ignored unknown form field '\(JobValidator.quote($0))'" }
        if values["negative_prompt"] != nil {
            notes.append("negative_prompt is accepted but not used: the distilled models run without classifier-free guidance")
        }
        return notes
    }

    /// " (did you mean 'model'?)" when `name` is one edit or a swap away from a known field.
    static func suggestion(for name: String) -> String {
        let lower = name.lowercased()
        let close = known.sorted().first { candidate in
            candidate == lower || (abs(candidate.count - lower.count) <= 2 && editDistance(candidate, lower) <= 2)
        }
        return close.map { " (did you mean '\($0)'?)" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The name the client used for `field`: the validator says `steps`, the client may have sent
    /// `num_inference_steps`. The error's `param` and message then name what was sent.
    func sentName(_ error: TurboServeError) -> TurboServeError {
        guard let field = error.field,
              let pair = Self.synonyms.first(where: { $0.canonical == field }),
              values[field] == nil, values[pair.alias] != nil else { return error }
        let pattern = "\\b\(NSRegularExpression.escapedPattern(for: field))\\b"
        let message = error.message.replacingOccurrences(of: pattern, with: pair.alias, options: .regularExpression)
        return TurboServeError(error.code, field: pair.alias, message)
    }

    /// Multipart text parts; a part that is not valid UTF-8 is refused naming the field.
    init(form: MultipartFormData) throws(TurboServeError) {
        var values: [String: String] = [:]
        for part in form.parts where part.filename == nil && part.name != "input_reference" {
            guard let text = String(validating: part.data, as: UTF8.self) else {
                throw TurboServeError(.invalidValue, field: JobValidator.quote(part.name), "\(JobValidator.quote(part.name)) must be valid UTF-8 text")
            }
            values[part.name] = text
        }
        try self.init(values: values, strict: false)
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
        if values["input_reference"] != nil {
            throw TurboServeError(.invalidValue, field: "input_reference", "input_reference is an image file: send it as a file part of a multipart/form-data body")
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
            // Strings first: most fields are strings, and each kind tried in vain costs a thrown DecodingError.
            // Each JSON token matches exactly one of these decodes, so the order changes no result.
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(String.self) { self = .text(value) }
            else if let value = try? container.decode(Bool.self) { self = .text(value ? "true" : "false") }
            else if let value = try? container.decode(Int64.self) { self = .text(String(value)) }
            else if let value = try? container.decode(Double.self) { self = .text(String(value)) }
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
