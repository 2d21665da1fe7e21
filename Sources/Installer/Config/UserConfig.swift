/// The `user:` section of one configuration file: the account created on the installed system.
///
/// ```yaml
/// user:
///   name: edge
///   password_hash: "$6$rounds=100000$...$..."   # from `emts-iso hash-password`
///   ssh_authorized_keys: ["ssh-ed25519 AAAA... ops@example.com"]
///   passwordless_sudo: true
/// ```
public struct UserSection: Sendable, Equatable, Decodable, ConfigSection, CustomStringConvertible {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case name
        case passwordHash = "password_hash"
        case sshAuthorizedKeys = "ssh_authorized_keys"
        case passwordlessSudo = "passwordless_sudo"
    }

    public var name: String?
    public var passwordHash: PasswordHash?
    public var sshAuthorizedKeys: [SSHPublicKey]?
    public var passwordlessSudo: Bool?

    public init(name: String? = nil, passwordHash: PasswordHash? = nil, sshAuthorizedKeys: [SSHPublicKey]? = nil,
                passwordlessSudo: Bool? = nil) {
        self.name = name
        self.passwordHash = passwordHash
        self.sshAuthorizedKeys = sshAuthorizedKeys
        self.passwordlessSudo = passwordlessSudo
    }

    /// What a plain `password:` key gets.
    public static let plainPasswordMessage = "a plain password is not accepted: give its SHA-512 crypt hash as "
        + "password_hash (make one with `emts-iso hash-password`)"

    public init(from decoder: any Decoder) throws {
        if try decoder.givenKeys().contains("password") {
            throw try decoder.container(keyedBy: AnyConfigKey.self).refuse("password", Self.plainPasswordMessage)
        }
        let container = try decoder.strictContainer(keyedBy: Key.self)
        name = try container.decodeText(.name, checkedBy: ConfigValidation.userName)
        if let text = try container.decodeIfPresent(String.self, forKey: .passwordHash) {
            do {
                passwordHash = try PasswordHash(text)
            } catch {
                throw container.invalid(.passwordHash, error.message)
            }
        }
        if let lines = try container.decodeIfPresent([String].self, forKey: .sshAuthorizedKeys) {
            var keys: [SSHPublicKey] = []
            for (index, line) in lines.enumerated() {
                do {
                    keys.append(try SSHPublicKey(line))
                } catch {
                    throw container.invalid(.sshAuthorizedKeys, index: index, error.message)
                }
            }
            sshAuthorizedKeys = keys
        }
        passwordlessSudo = try container.decodeIfPresent(Bool.self, forKey: .passwordlessSudo)
    }

    public func merged(over earlier: UserSection?) -> UserSection {
        UserSection(name: name ?? earlier?.name, passwordHash: passwordHash ?? earlier?.passwordHash,
                    sshAuthorizedKeys: sshAuthorizedKeys ?? earlier?.sshAuthorizedKeys,
                    passwordlessSudo: passwordlessSudo ?? earlier?.passwordlessSudo)
    }

    public var keysSet: [String] {
        Key.allCases.filter { key in
            switch key {
            case .name: name != nil
            case .passwordHash: passwordHash != nil
            case .sshAuthorizedKeys: sshAuthorizedKeys != nil
            case .passwordlessSudo: passwordlessSudo != nil
            }
        }.map(\.rawValue)
    }

    public var description: String {
        var parts: [String] = []
        if let name { parts.append("name: \(name)") }
        if passwordHash != nil { parts.append("password_hash: (set)") }
        if let sshAuthorizedKeys { parts.append("ssh_authorized_keys: \(sshAuthorizedKeys.count)") }
        if let passwordlessSudo { parts.append("passwordless_sudo: \(passwordlessSudo)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

/// The account install-os creates on the installed system (`user:` resolved over every file).
///
/// Its description and its JSON never carry the password hash or the keys: `password_hash` is `"(set)"`, and
/// `ssh_authorized_keys` is the number of keys.
public struct UserConfig: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// The login name.
    public var name: String
    /// The SHA-512 crypt hash for `/etc/shadow`; `nil` leaves the password locked (SSH keys only).
    public var passwordHash: PasswordHash?
    /// Lines of `~/.ssh/authorized_keys`.
    public var sshAuthorizedKeys: [SSHPublicKey]
    /// `<name> ALL=(ALL) NOPASSWD:ALL` in `/etc/sudoers.d/`. Default `false`.
    public var passwordlessSudo: Bool

    public init(name: String, passwordHash: PasswordHash? = nil, sshAuthorizedKeys: [SSHPublicKey] = [],
                passwordlessSudo: Bool = false) {
        self.name = name
        self.passwordHash = passwordHash
        self.sshAuthorizedKeys = sshAuthorizedKeys
        self.passwordlessSudo = passwordlessSudo
    }

    /// The account a merged section describes; `nil` without a name.
    init?(_ section: UserSection?) {
        guard let section, let name = section.name else { return nil }
        self.init(name: name, passwordHash: section.passwordHash, sshAuthorizedKeys: section.sshAuthorizedKeys ?? [],
                  passwordlessSudo: section.passwordlessSudo ?? false)
    }

    public var description: String {
        "\(name) (password \(passwordHash == nil ? "locked" : "(set)"), "
            + "\(sshAuthorizedKeys.count) SSH key\(sshAuthorizedKeys.count == 1 ? "" : "s")"
            + (passwordlessSudo ? ", passwordless sudo" : "") + ")"
    }

    private enum CodingKeys: String, CodingKey {
        case name, passwordHash = "password_hash", sshAuthorizedKeys = "ssh_authorized_keys"
        case passwordlessSudo = "passwordless_sudo"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(passwordHash, forKey: .passwordHash)
        try container.encode(sshAuthorizedKeys.count, forKey: .sshAuthorizedKeys)
        try container.encode(passwordlessSudo, forKey: .passwordlessSudo)
    }
}
