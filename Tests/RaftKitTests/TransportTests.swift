import NIOCore
import NIOPosix
import Testing

@testable import RaftKit

@Suite struct TransportFrameCodecTests {
    private func frames() -> [TransportFrame] {
        [
            TransportFrame(from: 1, payload: []),
            TransportFrame(from: 2, payload: [7]),
            TransportFrame(from: UInt64.max, payload: payload(3, bytes: 300)),
            TransportFrame(from: 4, payload: payload(4, bytes: 5)),
        ]
    }

    private func encoded(_ frames: [TransportFrame]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        for frame in frames { FrameCodec.encode(frame, into: &buffer) }
        return buffer
    }

    // Goal: frames split at any byte boundary decode exactly. Method: drip-feed the bytes of four frames one at a
    // time into an accumulating buffer (as NIO's ByteToMessageDecoderVerifier does) and decode after each byte.
    @Test func dripFeed() throws {
        var all = encoded(frames())
        var accumulated = ByteBufferAllocator().buffer(capacity: 0)
        var decoded: [TransportFrame] = []
        while let byte = all.readInteger(as: UInt8.self) {
            accumulated.writeInteger(byte)
            while let frame = try FrameCodec.decode(&accumulated) { decoded.append(frame) }
        }
        #expect(decoded == frames())
        #expect(accumulated.readableBytes == 0)
    }

    // Goal: many frames in one buffer all decode, and a partial frame at the end waits. Method: one buffer holding
    // four frames and half of a fifth.
    @Test func manyFramesInOneBuffer() throws {
        var buffer = encoded(frames() + [TransportFrame(from: 5, payload: [1, 2, 3, 4])])
        buffer.moveWriterIndex(to: buffer.writerIndex - 3)
        var decoded: [TransportFrame] = []
        while let frame = try FrameCodec.decode(&buffer) { decoded.append(frame) }
        #expect(decoded == frames())
        #expect(buffer.readableBytes == FrameCodec.headerBytes + 1)
    }

    // Goal: an oversized length is rejected from its header alone, before the bytes arrive.
    @Test func oversizedFrameIsRejected() {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeInteger(UInt32(TransportLimits.framePayloadBytesMax + 1))
        #expect(throws: TransportError.frameTooLarge(bytes: TransportLimits.framePayloadBytesMax + 1)) {
            _ = try FrameCodec.decode(&buffer)
        }
    }

    @Test func limitsAreConsistent() {
        TransportLimits.validate()
    }
}

@Suite struct TransportTCPTests {
    /// Reads frames from `stream` until `count` have arrived or the stream ends.
    private func collect(_ stream: AsyncStream<TransportFrame>, count: Int) async -> [TransportFrame] {
        var frames: [TransportFrame] = []
        for await frame in stream {
            frames.append(frame)
            if frames.count == count { break }
        }
        return frames
    }

    private func unusedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    // Goal: frames cross real loopback sockets intact and in order. Method: two transports on ephemeral ports,
    // 200 frames of varying size from 1 to 2.
    @Test func framesCrossLoopback() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let one = TCPTransport(id: 1, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:], group: group)
        let two = TCPTransport(id: 2, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:], group: group)
        _ = try await one.start()
        let portTwo = try await two.start()
        one.setPeer(2, address: PeerAddress(host: "127.0.0.1", port: portTwo))
        let sent = (0..<200).map { TransportFrame(from: 1, payload: payload(UInt64($0), bytes: $0 * 37 % 5000)) }
        for frame in sent { one.send(frame.payload, to: 2) }
        let received = await collect(two.inbound, count: sent.count)
        #expect(received == sent)
        await one.shutdown()
        await two.shutdown()
    }

    // Goal: with a shared secret, frames arrive intact from a member that holds it, and a sender with another
    // secret delivers nothing (its connection is dropped); the tag is stripped before the driver sees a frame.
    @Test func authenticatedFramesAndAnIntruder() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let secret = FrameAuthenticator(secret: Array("raft-group-secret-0123456789".utf8))
        let two = TCPTransport(id: 2, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:], group: group,
                               authenticator: secret)
        let portTwo = try await two.start()
        let intruder = TCPTransport(
            id: 3, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [2: PeerAddress(host: "127.0.0.1", port: portTwo)],
            group: group, authenticator: FrameAuthenticator(secret: Array("some-other-secret-0123456789".utf8)))
        _ = try await intruder.start()
        let plain = TCPTransport(
            id: 4, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [2: PeerAddress(host: "127.0.0.1", port: portTwo)],
            group: group)
        _ = try await plain.start()
        for index in 0..<20 {
            intruder.send([0xEE, UInt8(index)], to: 2)
            plain.send(payload(UInt64(index), bytes: 40), to: 2)
        }
        try await Task.sleep(for: .milliseconds(200))
        let one = TCPTransport(
            id: 1, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [2: PeerAddress(host: "127.0.0.1", port: portTwo)],
            group: group, authenticator: secret)
        _ = try await one.start()
        let sent = (0..<50).map { TransportFrame(from: 1, payload: payload(UInt64($0), bytes: $0 * 53 % 3000)) }
        for frame in sent { one.send(frame.payload, to: 2) }
        let received = await collect(two.inbound, count: sent.count)
        #expect(received == sent)
        await intruder.shutdown()
        await plain.shutdown()
        await one.shutdown()
        await two.shutdown()
    }

    // Goal: a dead peer neither stalls a live one nor grows its queue without bound. Method: node 1 sends 10,000
    // frames to a peer whose port nobody listens on, then 100 to a live peer; the live peer gets all 100, and the
    // dead peer's link dropped exactly the frames beyond its queue limit.
    @Test func deadPeerDoesNotStallOthers() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let deadPort = try await unusedPort()
        let two = TCPTransport(id: 2, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:], group: group)
        let portTwo = try await two.start()
        let one = TCPTransport(
            id: 1, listen: PeerAddress(host: "127.0.0.1", port: 0),
            peers: [2: PeerAddress(host: "127.0.0.1", port: portTwo), 9: PeerAddress(host: "127.0.0.1", port: deadPort)],
            group: group)
        _ = try await one.start()
        for index in 0..<10_000 { one.send(payload(UInt64(index), bytes: 16), to: 9) }
        for index in 0..<100 { one.send([UInt8(index)], to: 2) }
        let received = await collect(two.inbound, count: 100)
        #expect(received.map(\.payload) == (0..<100).map { [UInt8($0)] })
        let dead = try #require(await one.statistics(for: 9))
        #expect(dead.framesDropped == 10_000 - TransportLimits.peerQueueFramesMax)
        #expect(dead.framesSent == 0)
        await one.shutdown()
        await two.shutdown()
    }

    // Goal: a link reconnects after its peer restarts. Method: deliver a frame, shut the peer down, start a new
    // transport on the same port, and send frames until one arrives (bounded by a count, not a clock).
    @Test func reconnectsAfterPeerRestart() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let first = TCPTransport(id: 2, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:], group: group)
        let port = try await first.start()
        let one = TCPTransport(
            id: 1, listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [2: PeerAddress(host: "127.0.0.1", port: port)],
            group: group)
        one.send([1], to: 2)
        #expect(await collect(first.inbound, count: 1).map(\.payload) == [[1]])
        await first.shutdown()
        let second = TCPTransport(id: 2, listen: PeerAddress(host: "127.0.0.1", port: port), peers: [:], group: group)
        _ = try await second.start()
        let receiver = Task { await collect(second.inbound, count: 1) }
        var attempts = 0
        while attempts < 500 {
            one.send([2], to: 2)
            attempts += 1
            try await Task.sleep(for: .milliseconds(20))
            if (await one.statistics(for: 2))?.connects == 2 { break }
        }
        one.send([3], to: 2)
        if (await one.statistics(for: 2))?.connects != 2 { receiver.cancel() }  // Fail instead of hanging.
        let got = await receiver.value
        #expect(got.count == 1)
        #expect((await one.statistics(for: 2))?.connects == 2)
        await one.shutdown()
        await second.shutdown()
    }
}
