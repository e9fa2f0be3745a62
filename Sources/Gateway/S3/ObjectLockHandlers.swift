import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// Get/PutObjectLockConfiguration, Get/PutObjectRetention, Get/PutObjectLegalHold, and the permission
/// checks object lock adds to writes (the lock headers need s3:PutObjectRetention / s3:PutObjectLegalHold,
/// `x-amz-bypass-governance-retention` needs s3:BypassGovernanceRetention). What the lock allows (a delete,
/// a shortened retention) is decided by the state machine at apply time, never here.
extension S3Gateway {
    // MARK: Bucket configuration

    func getObjectLockConfiguration(_ call: S3Call) async throws -> Response {
        guard let configuration = try await metadata.objectLockConfiguration(bucket: call.bucket) else {
            throw S3Error(.objectLockConfigurationNotFoundError, details: [("BucketName", call.bucket)])
        }
        let document = ObjectLockConfigurationDocument(defaultRetention: configuration.defaultRetention.map { rule in
            switch rule.period {
            case .days(let days): .init(mode: rule.mode.name, days: days, years: nil)
            case .years(let years): .init(mode: rule.mode.name, days: nil, years: years)
            }
        })
        return Self.xmlResponse(document.xml())
    }

    /// Sets the default retention (none without a `Rule`); on a bucket without object lock, enables it if
    /// its versioning is Enabled (else InvalidBucketState, decided at apply time).
    func putObjectLockConfiguration(_ call: S3Call) async throws -> Response {
        let document = try ObjectLockConfigurationDocument.parse(Array(buffer: try await readSmallBody(call)))
        var configuration = ObjectLockConfiguration()
        if let rule = document.defaultRetention {
            guard let mode = RetentionMode(name: rule.mode) else { throw S3Error(.malformedXML) }
            let period: DefaultRetention.Period =
                if let days = rule.days { .days(days) } else { .years(rule.years ?? 0) }
            guard ObjectLockLimits.isValid(period) else {
                throw S3Error(.invalidRetentionPeriod,
                              "Default retention period must be a positive integer value of at most "
                                  + "\(ObjectLockLimits.defaultRetentionDaysMax) days or "
                                  + "\(ObjectLockLimits.defaultRetentionYearsMax) years.")
            }
            configuration.defaultRetention = DefaultRetention(mode: mode, period: period)
        }
        try await metadata.setObjectLockConfiguration(bucket: call.bucket, configuration: configuration,
                                                      requester: call.requester, commandID: call.requestID)
        return Self.emptyResponse(.ok)
    }

    // MARK: Retention and legal hold

    func getObjectRetention(_ call: S3Call) async throws -> Response {
        let versionID = try lockVersionID(call)
        let object = try await readableVersion(bucket: call.bucket, key: call.key, versionID: versionID, call: call,
                                               action: .getObjectRetention)
        try await requireObjectLock(call)
        guard let retention = object.retention else { throw S3Error(.noSuchObjectLockConfiguration) }
        return Self.xmlResponse(RetentionDocument(mode: retention.mode.name, retainUntil: retention.retainUntil).xml())
    }

    /// A body without Mode and RetainUntilDate removes the retention (which a GOVERNANCE retention allows
    /// only with the bypass header). A new retain-until date must be in the future.
    func putObjectRetention(_ call: S3Call) async throws -> Response {
        let versionID = try lockVersionID(call)
        let document = try RetentionDocument.parse(Array(buffer: try await readSmallBody(call)))
        var retention: ObjectRetention?
        if let name = document.mode, let until = document.retainUntil {
            guard let mode = RetentionMode(name: name) else { throw S3Error(.malformedXML) }
            guard until > call.now else {
                throw S3Error(.invalidArgument, "The retain until date must be in the future!")
            }
            retention = ObjectRetention(mode: mode, retainUntil: until)
        }
        try await changeLock(call, versionID: versionID, action: .putObjectRetention) { bucket, object, target in
            try await metadata.putObjectRetention(
                bucket: call.bucket, key: call.key, versionID: target, retention: retention,
                bypassGovernance: bypassesGovernance(call, bucket: bucket, key: call.key, object: object),
                access: bucket.accessStamp, requester: call.requester, commandID: call.requestID)
        }
        return Self.emptyResponse(.ok)
    }

    func getObjectLegalHold(_ call: S3Call) async throws -> Response {
        let versionID = try lockVersionID(call)
        let object = try await readableVersion(bucket: call.bucket, key: call.key, versionID: versionID, call: call,
                                               action: .getObjectLegalHold)
        try await requireObjectLock(call)
        guard let hold = object.legalHold else { throw S3Error(.noSuchObjectLockConfiguration) }
        return Self.xmlResponse(LegalHoldDocument(isOn: hold).xml())
    }

    func putObjectLegalHold(_ call: S3Call) async throws -> Response {
        let versionID = try lockVersionID(call)
        let document = try LegalHoldDocument.parse(Array(buffer: try await readSmallBody(call)))
        try await changeLock(call, versionID: versionID, action: .putObjectLegalHold) { bucket, _, target in
            try await metadata.putObjectLegalHold(
                bucket: call.bucket, key: call.key, versionID: target, legalHold: document.isOn,
                access: bucket.accessStamp, requester: call.requester, commandID: call.requestID)
        }
        return Self.emptyResponse(.ok)
    }

    /// Authorizes `action` on the version the request names (the current one without `versionId`) and
    /// proposes the change for that version's id (so that a PUT in between cannot move it to a version nobody
    /// authorized it on), stamped with the bucket record the decision (and any bypass) was made on. A
    /// changed bucket is decided again on a fresh read (`redecidingOnBucketChange`). The version deleted
    /// meanwhile is, to a request that named none, a missing key.
    private func changeLock(_ call: S3Call, versionID: String?, action: S3Action,
                            _ change: (BucketRecord, ObjectRecord, String) async throws -> String) async throws {
        do {
            _ = try await redecidingOnBucketChange {
                let (bucket, object) = try await authorizedVersion(
                    bucket: call.bucket, key: call.key, versionID: versionID, call: call, action: action,
                    extraContext: [:])
                return try await change(bucket, object, versionID ?? object.versionID)
            }
        } catch {
            if versionID == nil, let refusal = error as? MetaError, refusal == .noSuchVersion {
                throw S3Error(.noSuchKey, details: [("Key", call.key)])
            }
            throw error
        }
    }

    /// Refuses a retention or legal hold read in a bucket without object lock, as S3 does (InvalidRequest).
    private func requireObjectLock(_ call: S3Call) async throws {
        guard try await metadata.objectLockConfiguration(bucket: call.bucket) != nil else {
            throw S3Error(MetaError.objectLockNotEnabled)
        }
    }

    private func lockVersionID(_ call: S3Call) throws -> String? {
        try validateKey(call.key)
        let versionID = call.query("versionId")
        if let versionID { try Self.validateVersionID(versionID, parameter: "versionId") }
        return versionID
    }

    // MARK: Permissions object lock adds

    /// Whether the request asks to bypass GOVERNANCE retention (`x-amz-bypass-governance-retention: true`)
    /// and may: s3:BypassGovernanceRetention on `key` (the bucket owner has it; a policy may grant it).
    /// A request that asks without the permission is treated as not asking: GOVERNANCE then holds.
    func bypassesGovernance(_ call: S3Call, bucket: BucketRecord, key: String, object: ObjectRecord? = nil) -> Bool {
        guard call.header("x-amz-bypass-governance-retention")?.trimmingCharacters(in: .whitespaces)
            .lowercased() == "true"
        else { return false }
        let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                    context: policyContext(call), action: .bypassGovernanceRetention, bucket: bucket,
                                    object: object, key: key)
        return Authorizer.allows(request)
    }

    /// Refuses lock headers on a write (`ObjectHeaders.requestedLock`) that the caller may not set: a
    /// retention needs s3:PutObjectRetention, a legal hold s3:PutObjectLegalHold (AccessDenied).
    func checkLockPermission(_ lock: [HeaderField], _ call: S3Call, in bucket: BucketRecord) throws {
        let needed: [(String, S3Action)] = [(ObjectRecord.retentionHeaderName, .putObjectRetention),
                                            (ObjectRecord.legalHoldHeaderName, .putObjectLegalHold)]
        for (name, action) in needed where lock.contains(where: { $0.name == name }) {
            let request = AccessRequest(principal: call.principal, principalName: call.user?.name,
                                        context: policyContext(call), action: action, bucket: bucket, key: call.key)
            guard Authorizer.allows(request) else { throw S3Error(.accessDenied) }
        }
    }
}
