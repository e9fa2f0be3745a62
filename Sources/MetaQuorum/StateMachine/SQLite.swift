import CSQLite
import MetaContract

/// A failed SQLite call: the result code and SQLite's message. A storage fault, never a client error.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { "SQLite error \(code): \(message)" }
}

/// A value bound to a statement parameter.
///
/// Strings are bound as BLOBs of their UTF-8 bytes, never as TEXT: SQLite then orders them with `memcmp`
/// (byte order, which is S3's key order), a NUL inside a key is stored exactly, and no collation or
/// text-encoding conversion can apply.
enum SQLiteValue {
    case int(Int64)
    case bytes([UInt8])
    case string(String)
    case null
}

/// One row of a result, readable while the statement stays on it.
struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(statement, column)
    }

    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    func string(_ column: Int32) -> String {
        String(decoding: bytes(column), as: UTF8.self)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(statement, column) == SQLITE_NULL
    }
}

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe and not `Sendable`: exactly one thread (the state machine's) owns it for its whole
/// life, as SQLite's own rules for a connection opened with `SQLITE_OPEN_NOMUTEX` require.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    /// Statements by SQL text, prepared once with `SQLITE_PREPARE_PERSISTENT`.
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating) the database at `path`; `readOnly` opens an existing file without ever writing it.
    init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var connection: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw SQLiteError(code: code, message: "open \(path): \(message)")
        }
        handle = connection
        sqlite3_extended_result_codes(connection, 1)
    }

    deinit {
        close()
    }

    /// The raw handle, for the backup API.
    var rawHandle: OpaquePointer {
        guard let handle else { preconditionFailure("SQLite connection used after close") }
        return handle
    }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs SQL without parameters or results (DDL, PRAGMA, BEGIN/COMMIT), possibly several statements.
    func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(rawHandle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: code, message: "\(message) in: \(sql)")
        }
    }

    /// Runs one statement to completion, ignoring any rows. Returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepared(sql, arguments)
        defer { sqlite3_reset(statement) }
        while try step(statement) {}
        return Int(sqlite3_changes(rawHandle))
    }

    /// Every row of one query, mapped.
    func rows<T>(_ sql: String, _ arguments: [SQLiteValue] = [], _ map: (SQLiteRow) throws(SQLiteError) -> T)
        throws(SQLiteError) -> [T]
    {
        let statement = try prepared(sql, arguments)
        defer { sqlite3_reset(statement) }
        var result: [T] = []
        while try step(statement) { result.append(try map(SQLiteRow(statement: statement))) }
        return result
    }

    /// The first row of one query, mapped, or nil.
    func firstRow<T>(_ sql: String, _ arguments: [SQLiteValue] = [], _ map: (SQLiteRow) throws(SQLiteError) -> T)
        throws(SQLiteError) -> T?
    {
        let statement = try prepared(sql, arguments)
        defer { sqlite3_reset(statement) }
        guard try step(statement) else { return nil }
        return try map(SQLiteRow(statement: statement))
    }

    private func step(_ statement: OpaquePointer) throws(SQLiteError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(rawHandle)))
        }
    }

    private func prepared(_ sql: String, _ arguments: [SQLiteValue]) throws(SQLiteError) -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var fresh: OpaquePointer?
            let code = sqlite3_prepare_v3(rawHandle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &fresh, nil)
            guard code == SQLITE_OK, let fresh else {
                throw SQLiteError(code: code, message: "\(String(cString: sqlite3_errmsg(rawHandle))) in: \(sql)")
            }
            statements[sql] = fresh
            statement = fresh
        }
        sqlite3_clear_bindings(statement)
        precondition(
            Int(sqlite3_bind_parameter_count(statement)) == arguments.count,
            "\(arguments.count) arguments for \(sqlite3_bind_parameter_count(statement)) parameters: \(sql)")
        for (offset, argument) in arguments.enumerated() {
            try bind(argument, at: Int32(offset + 1), to: statement)
        }
        return statement
    }

    private func bind(_ value: SQLiteValue, at position: Int32, to statement: OpaquePointer) throws(SQLiteError) {
        let code: Int32
        switch value {
        case .int(let number):
            code = sqlite3_bind_int64(statement, position, number)
        case .null:
            code = sqlite3_bind_null(statement, position)
        case .bytes(let bytes):
            code = Self.bindBlob(bytes, at: position, to: statement)
        case .string(let text):
            code = Self.bindBlob(Array(text.utf8), at: position, to: statement)
        }
        guard code == SQLITE_OK else {
            throw SQLiteError(code: code, message: "bind parameter \(position)")
        }
    }

    /// An empty array must bind a zero-length BLOB: `sqlite3_bind_blob` with a null pointer binds NULL.
    private static func bindBlob(_ bytes: [UInt8], at position: Int32, to statement: OpaquePointer) -> Int32 {
        guard !bytes.isEmpty else { return sqlite3_bind_zeroblob(statement, position, 0) }
        return bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(statement, position, buffer.baseAddress, Int32(buffer.count), sqliteTransient)
        }
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Copies the whole `main` database of `source` into `destination` with the online backup API.
func sqliteBackup(from source: SQLiteConnection, to destination: SQLiteConnection) throws(SQLiteError) {
    guard let backup = sqlite3_backup_init(destination.rawHandle, "main", source.rawHandle, "main") else {
        throw SQLiteError(
            code: sqlite3_errcode(destination.rawHandle),
            message: "backup init: \(String(cString: sqlite3_errmsg(destination.rawHandle)))")
    }
    let stepCode = sqlite3_backup_step(backup, -1)
    let finishCode = sqlite3_backup_finish(backup)
    guard stepCode == SQLITE_DONE else {
        throw SQLiteError(code: stepCode, message: "backup step: \(String(cString: sqlite3_errstr(stepCode)))")
    }
    guard finishCode == SQLITE_OK else {
        throw SQLiteError(code: finishCode, message: "backup finish: \(String(cString: sqlite3_errstr(finishCode)))")
    }
}
