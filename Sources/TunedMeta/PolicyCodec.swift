import Foundation

/// Reading and writing policy documents (pretty, sorted JSON, so that the shipped file diffs well).
public enum PolicyCodec {
    public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public static func encode(_ p: PolicyDocument) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(p)
    }

    public static func encodeString(_ p: PolicyDocument) throws -> String {
        String(decoding: try encode(p), as: UTF8.self)
    }

    /// Decodes a document; `source` names it in errors (a file path, `store version 3`).
    public static func decode(_ data: Data, source: String) throws -> PolicyDocument {
        struct Header: Decodable {
            var schema: Int?
            var kind: String?
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data) } catch {
            throw DecodeError(message: "\(source): not a policy document (JSON object expected): \(error)")
        }
        guard header.kind == PolicyDocument.kind else {
            throw DecodeError(message: "\(source): kind is \(header.kind.map { "\"\($0)\"" } ?? "missing"); expected \"\(PolicyDocument.kind)\"")
        }
        guard header.schema == PolicyDocument.currentSchema else {
            throw DecodeError(
                message: "\(source): policy schema \(header.schema.map(String.init) ?? "missing") is not supported; "
                    + "this tuned reads schema \(PolicyDocument.currentSchema) — refit it with `tunectl policy fit`")
        }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try d.decode(PolicyDocument.self, from: data) } catch {
            throw DecodeError(message: "\(source): malformed policy document: \(error)")
        }
    }
}
