import NIOCore
import NIOEmbedded
import Testing
@testable import BoardDaemon

@Suite("Line framing")
struct LineFrameDecoderTests {
    func frames(_ chunks: [String], max: Int = 16, close: Bool = true) throws -> [String] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: max)))
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
        }
        if close { _ = try? channel.finish() }
        var result: [String] = []
        while let frame = try channel.readInbound(as: LineFrame.self) {
            switch frame {
            case let .line(buffer): result.append(String(buffer: buffer))
            case let .unterminated(buffer): result.append("<unterminated> " + String(buffer: buffer))
            case .tooLong: result.append("<too long>")
            }
        }
        return result
    }

    @Test func splitsOnNewlinesAcrossChunks() throws {
        #expect(try frames(["ab\ncd", "e\r\nf", "g\n"]) == ["ab", "cde", "fg"])
        #expect(try frames(["\n\n"]) == ["", ""])
    }

    @Test func aFinalLineWithoutNewlineCountsAtEndOfInput() throws {
        #expect(try frames(["ping"]) == ["<unterminated> ping"])
        #expect(try frames(["a\nping"]) == ["a", "<unterminated> ping"])
        #expect(try frames(["ping"], close: false) == [])
    }

    @Test func anOverlongLineIsReportedOnceAndTheRestDiscarded() throws {
        #expect(try frames(["0123456789", "0123456789", "\nok\n"]) == ["<too long>"])
        #expect(try frames(["short\n", String(repeating: "x", count: 40) + "\nafter\n"]) == ["short", "<too long>"])
        #expect(try frames([String(repeating: "y", count: 16) + "\n"]) == [String(repeating: "y", count: 16)], "the limit itself is allowed")
    }
}
