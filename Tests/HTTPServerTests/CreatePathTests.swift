import Foundation
@testable import HTTPServer
import Testing
import TurboServeDomain

/// The pieces of every create that were made cheaper must answer exactly as before: job ids are `video_` and 24
/// lowercase hex digits, zero-padded; a JSON body's scalars read as the same text whichever kind they are.
struct CreatePathTests {
    @Test func hexDigitsAreZeroPaddedToSixteen() {
        #expect(VideoAPI.hex16(0) == "0000000000000000")
        #expect(VideoAPI.hex16(0xabc) == "0000000000000abc")
        #expect(VideoAPI.hex16(.max) == "ffffffffffffffff")
        #expect(VideoAPI.hex16(1 << 60) == "1000000000000000")
    }

    @Test func randomJobIDsAreVideoAndTwentyFourHexDigitsAndDistinct() {
        let ids = (0..<200).map { _ in VideoAPI.randomJobID().rawValue }
        for id in ids {
            #expect(id.hasPrefix("video_") && id.count == 30, "\(id)")
            #expect(id.dropFirst(6).allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test func everyJSONScalarKindReadsAsItsText() throws {
        let body = #"{"prompt":"a fox","steps":4,"sigma_max":0.5,"adaptive_resolution":true,"seed":null,"model":"4"}"#
        let fields = try VideoRequestFields(json: Array(body.utf8))
        #expect(fields.values == ["prompt": "a fox", "steps": "4", "sigma_max": "0.5", "adaptive_resolution": "true", "model": "4"])
    }

    @Test func aNestedValueIsRefusedNamingItsField() {
        #expect(throws: TurboServeError.self) { try VideoRequestFields(json: Array(#"{"prompt":["a"]}"#.utf8)) }
        do {
            _ = try VideoRequestFields(json: Array(#"{"prompt":{"a":1}}"#.utf8))
            Issue.record("a nested object was accepted")
        } catch {
            #expect(error.field == "prompt")
        }
    }
}
