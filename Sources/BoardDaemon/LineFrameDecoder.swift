import NIOCore

/// One inbound unit of the control protocol.
enum LineFrame: Sendable {
    case line(ByteBuffer)
    /// What was left without a newline when the input ended: a request from a client that shut
    /// down its sending side, or half a line cut off by the daemon's own shutdown.
    case unterminated(ByteBuffer)
    /// A line longer than the limit; everything after it on the connection is discarded.
    case tooLong
}

/// Splits the byte stream at `\n` (a trailing `\r` is dropped), refusing lines over `maxLength`
/// before buffering them whole, so one client cannot make the daemon hold unbounded memory.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    let maxLength: Int
    private var discarding = false
    /// Bytes already searched for a newline, so a long line arriving in pieces is scanned once.
    private var scanned = 0

    init(maxLength: Int) {
        self.maxLength = maxLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + scanned
        guard let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if view.count > maxLength {
                discarding = true
                buffer.moveReaderIndex(to: buffer.writerIndex)
                context.fireChannelRead(wrapInboundOut(.tooLong))
            }
            return .needMoreData
        }
        scanned = 0
        let length = newline - view.startIndex
        if length > maxLength {
            discarding = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(wrapInboundOut(.tooLong))
            return .needMoreData
        }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") {
            line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line
        }
        context.fireChannelRead(wrapInboundOut(.line(line)))
        return .continue
    }

    /// At end of input a final line without its newline still counts: a client that writes one
    /// request and shuts down its sending side gets its answer.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !discarding, buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) {
            context.fireChannelRead(wrapInboundOut(.unterminated(line)))
        }
        return .needMoreData
    }
}
