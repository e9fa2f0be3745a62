import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import MetaContract
import NIOCore
import NIOSSL
import S3Protocol
public import ServiceLifecycle

/// Serving S3 for a metadata service and a blob cluster: the HTTP application, the gateway's background
/// workers (garbage collection, the orphan sweep) and the root user. Every process that answers S3 (`silo
/// server`, `silo gateway`) runs this, whatever metadata and blob stores it was given.
public enum GatewayServer {
    /// Serves until SIGINT or SIGTERM, with `additionalServices` (a local store's compaction, say) run
    /// beside; `onReady` is called once the HTTP listener is bound.
    public static func serve(
        metadata: any MetadataService, cluster: BlobCluster, configuration: GatewayConfiguration,
        host: String, port: Int, logger: Logger, additionalServices: [any Service] = [],
        onReady: @escaping @Sendable () -> Void
    ) async throws {
        try await serve(metadata: metadata, clusters: BlobClusterSource(cluster), configuration: configuration,
                        host: host, port: port, logger: logger, additionalServices: additionalServices,
                        onReady: onReady)
    }

    /// `serve` on a blob cluster that may change while serving (`silo gateway` following the cluster map).
    public static func serve(
        metadata: any MetadataService, clusters: BlobClusterSource, configuration: GatewayConfiguration,
        host: String, port: Int, logger: Logger, additionalServices: [any Service] = [],
        onReady: @escaping @Sendable () -> Void
    ) async throws {
        let cluster = clusters
        let audit = try configuration.auditLogPath.map { path throws(AuditLogError) in try AuditLog(path: path) }
        defer { audit?.close() }
        let gateway = S3Gateway(metadata: metadata, clusters: clusters, configuration: configuration, logger: logger,
                                audit: audit)
        var workers: [any BackgroundWorker] = [
            GarbageCollector(metadata: metadata, clusters: cluster,
                             graceMilliseconds: configuration.garbageGraceMilliseconds),
            OrphanSweeper(metadata: metadata, cluster: cluster,
                          ageMilliseconds: configuration.orphanChunkAgeMilliseconds),
        ]
        if let interval = configuration.repairInterval {
            workers.append(ChunkRepairer(metadata: metadata, cluster: cluster, interval: interval,
                                         replaceAfter: configuration.repairReplaceAfter, logger: logger))
        }
        if let interval = configuration.lifecycleInterval {
            workers.append(LifecycleWorker(metadata: metadata, interval: interval,
                                           dayMilliseconds: configuration.lifecycleDayMilliseconds, logger: logger))
        }
        let background = BackgroundRunner(workers: workers, logger: logger)
        let app = try makeApplication(gateway: gateway, host: host, port: port, logger: logger, onReady: onReady)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app),
            .init(service: background, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
        ]
        for service in additionalServices {
            services.append(.init(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The Hummingbird application serving `gateway`, with Silo's HTTP/1.1 channel settings, over TLS when
    /// the configuration names certificate files (throws `TLSSetupError` naming a file that does not load).
    public static func makeApplication(gateway: S3Gateway, host: String, port: Int, logger: Logger,
                                       onReady: @escaping @Sendable () -> Void) throws -> some ApplicationProtocol {
        var decoder = HTTP1Channel.Configuration.DecoderConfiguration()
        decoder.maxHeaderListSize = S3Limits.requestHeaderBytesMax
        decoder.maxHeaderFieldSize = S3Limits.requestHeaderFieldBytesMax
        decoder.maxHeaderFieldCount = S3Limits.requestHeaderCountMax
        let limits = gateway.configuration.connections
        let counter = ConnectionCounter(limits: limits)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuard(counter: counter),
                ExpectContinueHandler(drainBytesMax: limits.drainBytesMax, lingerTimeout: limits.lingerTimeout,
                                      lingerCloseTimeout: limits.lingerCloseTimeout),
            ],
            idleTimeout: limits.idleTimeout,
            httpDecoderConfiguration: decoder)
        var server: HTTPServerBuilder = .http1(configuration: http1)
        if let files = gateway.configuration.tls {
            server = try .tls(.http1(configuration: http1), tlsConfiguration: try tlsConfiguration(files))
        }
        return Application(
            responder: gateway,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "Silo",
                                 backlog: 1024, reuseAddress: true),
            onServerRunning: { _ in onReady() },
            logger: logger)
    }

    /// A TLS 1.2+ server configuration from PEM files.
    static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChainPath)
        } catch {
            throw TLSSetupError("cannot load the TLS certificate chain \(files.certificateChainPath): \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError("the TLS certificate file \(files.certificateChainPath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        } catch {
            throw TLSSetupError("cannot load the TLS private key \(files.privateKeyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// Makes the metadata's root user hold these keys: created on the first start, its keys replaced (same
    /// id, so it keeps its buckets) when they changed. Gateways of a cluster may run this at the same time:
    /// a creation that loses the race (`userAlreadyExists`) looks again, and succeeds when the winner holds
    /// the same keys.
    public static func ensureRootUser(accessKeyID: String, secretAccessKey: String, metadata: any MetadataService)
        async throws
    {
        for attempt in 0..<3 {
            let users = try await metadata.listUsers()
            var id = Credentials.makeUserID()
            if let existing = users.first(where: { $0.isRoot }) {
                if existing.accessKeyID == accessKeyID && existing.secretAccessKey == secretAccessKey { return }
                id = existing.id
                try await metadata.deleteUser(name: existing.name, heir: existing.id,
                                              commandID: S3Gateway.randomHex(bytes: 16))
            }
            let root = UserRecord(id: id, name: "root", accessKeyID: accessKeyID, secretAccessKey: secretAccessKey,
                                  isRoot: true, createdTime: S3Gateway.wallClockMilliseconds())
            do {
                try await metadata.createUser(root, commandID: S3Gateway.randomHex(bytes: 16))
                return
            } catch {
                // Another gateway created it first: look again (its keys decide).
                guard error == .userAlreadyExists, attempt < 2 else { throw error }
            }
        }
    }
}

/// A TLS certificate or key that does not load, with the file's path.
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
