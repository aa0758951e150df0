import Foundation

/// Removes server file paths from text that leaves the server (error messages, job failure messages in the
/// operations view): anything shaped like an absolute or `./` path with at least one directory — `/var/x.png`,
/// `./var/uploads/a.png`, `file:///tmp/x` — becomes `<path>`. API paths (`/v1/…`) are kept, since messages use
/// them to tell the caller what to call next.
public enum PathRedaction {
    private static let pattern = try! NSRegularExpression(pattern: #"(?:file://)?(?:\.{1,2})?/(?:[A-Za-z0-9._~+@%-]+/)+[A-Za-z0-9._~+@%-]*"#)

    public static func redact(_ text: String) -> String {
        guard text.contains("/") else { return text }
        let matches = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
        var result = text
        for match in matches.reversed() {
            guard let range = Range(match.range, in: result) else { continue }
            if result[range].hasPrefix("/v1/") { continue }
            if range.lowerBound > result.startIndex, let before = result[..<range.lowerBound].last, before.isLetter || before.isNumber { continue }
            result.replaceSubrange(range, with: "<path>")
        }
        return result
    }
}
