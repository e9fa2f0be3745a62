import HTTPTypes
import Hummingbird
import MetaContract
import S3Protocol

/// GetObjectAttributes: what a HEAD tells plus a page of the parts, for the attributes named in
/// `x-amz-object-attributes` (`ETag`, `Checksum`, `ObjectParts`, `StorageClass`, `ObjectSize`).
extension S3Gateway {
    /// The attribute names GetObjectAttributes accepts.
    static let objectAttributeNames: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    func getObjectAttributes(_ call: S3Call) async throws -> Response {
        try validateKey(call.key)
        let versionID = call.query("versionId")
        if let versionID { try Self.validateVersionID(versionID, parameter: "versionId") }
        let asked = Set(call.headers[values: HTTPField.Name("x-amz-object-attributes")!]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty })
        guard !asked.isEmpty else {
            throw S3Error(.invalidArgument, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
                          details: [("ArgumentName", "x-amz-object-attributes")])
        }
        if let unknown = asked.subtracting(Self.objectAttributeNames).sorted().first {
            throw S3Error(.invalidArgument, "Invalid attribute name specified.",
                          details: [("ArgumentName", "x-amz-object-attributes"), ("ArgumentValue", unknown)])
        }
        var paging: [String: Int] = [:]
        for header in ["x-amz-max-parts", "x-amz-part-number-marker"] {
            guard let text = call.header(header) else { continue }
            guard let value = Int(text), value >= 0 else {
                throw S3Error(.invalidArgument, "\(header) must be a non-negative integer.",
                              details: [("ArgumentName", header), ("ArgumentValue", text)])
            }
            paging[header] = value
        }
        let object = try await readableVersion(bucket: call.bucket, key: call.key, versionID: versionID, call: call,
                                               action: .getObjectAttributes)
        let checksum = asked.contains("Checksum") ? Self.checksumFields(object.checksum).first : nil
        let result = GetObjectAttributesResult(
            etag: asked.contains("ETag") ? object.etag : nil,
            checksum: checksum,
            checksumType: checksum == nil ? nil : object.checksum.flatMap { ChecksumType(headerValue: $0.type) },
            parts: asked.contains("ObjectParts") && !object.partSizes.isEmpty
                ? GetObjectAttributesResult.ObjectPartsPage(
                    sizes: object.partSizes, partNumberMarker: paging["x-amz-part-number-marker"] ?? 0,
                    maxParts: min(paging["x-amz-max-parts"] ?? S3Limits.listPartsMax, S3Limits.listPartsMax))
                : nil,
            storageClass: asked.contains("StorageClass") ? "STANDARD" : nil,
            objectSize: asked.contains("ObjectSize") ? object.sizeBytes : nil)
        var headers = HTTPFields()
        headers[.lastModified] = S3Time.httpDate(milliseconds: object.lastModifiedTime)
        if versionID != nil || object.versionID != Self.nullVersionID { headers[Self.versionIDHeader] = object.versionID }
        return Self.xmlResponse(result.xml(), headers: headers)
    }
}
