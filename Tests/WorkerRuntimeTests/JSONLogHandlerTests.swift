import Foundation
import Logging
import Synchronization
import Testing
import WorkerRuntime

struct JSONLogHandlerTests {
    @Test func eachRecordIsOneJSONLineWithMetadata() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "turboserve") { label in JSONLogHandler(label: label, write: { line in lines.withLock { $0.append(line) } }) }
        logger[metadataKey: "node"] = "gpu-0"
        logger.info("job finished", metadata: ["job": "video_1"])
        logger.debug("not at info level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1 && written[0].hasSuffix("\n") && written[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String])
        #expect(object["level"] == "info" && object["msg"] == "job finished" && object["logger"] == "turboserve")
        #expect(object["job"] == "video_1" && object["node"] == "gpu-0" && object["ts"] != nil)
    }
}
