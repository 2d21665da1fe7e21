import Crypto
import Foundation

/// A crypt(3) SHA-512 password hash (`$6$...`), as given in `user.password_hash`.
///
/// The hash never shows: its `description`, its mirror and its encoding (`--dry-run --json`) all say
/// `(set)`. Only `cryptString` gives the text, for writing `/etc/shadow`.
public struct PasswordHash: Sendable, Equatable, Encodable, CustomStringConvertible, CustomReflectable {
    /// The hash, `$6$[rounds=N$]salt$hash`.
    public let cryptString: String

    /// Checks the form of `text`.
    /// - Throws: `PasswordHashError` saying what a hash looks like.
    public init(_ text: String) throws(PasswordHashError) {
        if let message = ConfigValidation.passwordHash(text) { throw PasswordHashError(message: message) }
        cryptString = text
    }

    public var description: String { "(set)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A `password_hash` that is not a SHA-512 crypt hash.
public struct PasswordHashError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One OpenSSH public key line (`ssh-ed25519 AAAAC3... user@host`) for `authorized_keys`.
///
/// The key text never shows in descriptions or mirrors: they give the type and the SHA-256 fingerprint, as
/// `ssh-keygen -l` does. The configuration's JSON gives only how many keys there are.
public struct SSHPublicKey: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The key types accepted (`sk-` types are FIDO security keys).
    public static let types: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// The whole line, as written into `authorized_keys`.
    public let line: String
    /// The key type (`ssh-ed25519`).
    public let type: String
    /// `SHA256:` and the unpadded base64 of the key blob's SHA-256, as OpenSSH prints fingerprints.
    public let fingerprint: String

    /// Checks that `text` is a key line: a known type, a base64 blob that starts with the same type, an
    /// optional comment.
    public init(_ text: String) throws(SSHPublicKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw SSHPublicKeyError(message: "one key per list entry, on one line")
        }
        let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count >= 2 else {
            throw SSHPublicKeyError(message: "not an OpenSSH public key line (\"ssh-ed25519 AAAA... comment\", "
                                    + "as in a .pub file)")
        }
        guard Self.types.contains(fields[0]) else {
            throw SSHPublicKeyError(message: "key type \"\(fields[0].prefix(40))\" is not one of "
                                    + Self.types.sorted().joined(separator: ", "))
        }
        guard let blob = Data(base64Encoded: fields[1]), blob.count >= 4 else {
            throw SSHPublicKeyError(message: "the \(fields[0]) key's second field is not base64 (is the key cut?)")
        }
        let bytes = [UInt8](blob)
        let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count >= 4 + length, String(decoding: bytes[4 ..< 4 + length], as: UTF8.self) == fields[0] else {
            throw SSHPublicKeyError(message: "the \(fields[0]) key's data is not a \(fields[0]) key (is the key cut "
                                    + "or its type wrong?)")
        }
        line = trimmed
        type = fields[0]
        fingerprint = "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString()
            .trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }

    public var description: String { "\(type) \(fingerprint)" }
    public var customMirror: Mirror { Mirror(self, children: ["type": type, "fingerprint": fingerprint]) }
}

/// An `ssh_authorized_keys` entry that is not a public key line.
public struct SSHPublicKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
