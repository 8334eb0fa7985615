@testable import BerthACME
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CertificateStorageTests {
    private func mode(_ path: String) -> mode_t {
        var info = stat()
        stat(path, &info)
        return info.st_mode & 0o7777
    }

    @Test func keysAreWrittenWithMode0600WhateverTheUmask() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let old = umask(0)
        defer { umask(old) }
        let path = folder.path + "/secret.key"
        try AtomicFile.write(Array("one".utf8), to: path, mode: 0o600)
        #expect(mode(path) == 0o600)
        umask(0o077)
        let chain = folder.path + "/chain.pem"
        try AtomicFile.write(Array("two".utf8), to: chain, mode: 0o644)
        #expect(mode(chain) == 0o644)
    }

    @Test func replacingAFileLeavesNoTemporaryFilesAndTheNewContent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/chain.pem"
        try AtomicFile.write(Array("old".utf8), to: path, mode: 0o644)
        // A reader holding the old file keeps reading the old content: the new one is a new inode.
        let reader = open(path, O_RDONLY)
        defer { close(reader) }
        try AtomicFile.write(Array("new".utf8), to: path, mode: 0o644)
        var buffer = [UInt8](repeating: 0, count: 8)
        let count = read(reader, &buffer, 8)
        #expect(Array(buffer.prefix(max(count, 0))) == Array("old".utf8))
        #expect(try AtomicFile.read(path) == Array("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["chain.pem"])
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoDebris() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/key.pem"
        try AtomicFile.write(Array("old".utf8), to: path, mode: 0o600)
        // Renaming a file over a non-empty folder fails after the temporary file was written.
        let blocked = folder.path + "/blocked"
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        #expect(throws: ACMEError.self) { try AtomicFile.write(Array("new".utf8), to: blocked, mode: 0o600) }
        #expect(try AtomicFile.read(path) == Array("old".utf8))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["key.pem", "blocked"])
    }

    @Test func theAccountKeyIsCreatedOnceAndReused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = CertificateStorage(root: folder.path + "/acme")
        let directory = "https://acme-v02.api.letsencrypt.org/directory"
        let first = try storage.accountKey(directoryURL: directory)
        let second = try storage.accountKey(directoryURL: directory)
        #expect(first.thumbprint == second.thumbprint)
        let keyPath = folder.path + "/acme/accounts/acme-v02.api.letsencrypt.org-directory/account.key"
        #expect(mode(keyPath) == 0o600)
        // Another CA gets another account.
        let staging = try storage.accountKey(directoryURL: "https://127.0.0.1:14000/dir")
        #expect(staging.thumbprint != first.thumbprint)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/acme/accounts/127.0.0.1_14000-dir/account.key"))
        try storage.saveAccountURL("https://ca.test/acct/1", directoryURL: directory)
        #expect(try storage.accountURL(directoryURL: directory) == "https://ca.test/acct/1")
    }

    @Test func storedCertificatesAreLoadedAndJudged() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = CertificateStorage(root: folder.path + "/acme")
        let ca = try TestCertificateAuthority()
        let now = Date()
        let (leaf, key) = try ca.leaf(dnsNames: ["shop.test", "www.shop.test"], notBefore: now - 60, notAfter: now + 3600)
        let stored = try StoredCertificate(chainPEM: try leaf.pem + ca.pem, keyPEM: key.pemRepresentation)
        try storage.save(stored, name: "shop.test")
        #expect(mode(folder.path + "/acme/certificates/shop.test/key.pem") == 0o600)
        #expect(mode(folder.path + "/acme/certificates/shop.test/chain.pem") == 0o644)

        let loaded = try #require(try storage.certificate(name: "shop.test"))
        #expect(loaded.chain.count == 2)
        #expect(loaded.names == ["shop.test", "www.shop.test"])
        #expect(loaded.isUsable(for: ["shop.test", "WWW.shop.test"], at: now))
        #expect(!loaded.isUsable(for: ["shop.test", "api.shop.test"], at: now))  // a name it lacks
        #expect(!loaded.isUsable(for: ["shop.test"], at: now + 7200))           // expired
        #expect(!loaded.isUsable(for: ["shop.test"], at: now - 3600))           // not yet valid
        #expect(try storage.certificate(name: "other.test") == nil)
    }

    /// A crash between the key's rename and the chain's leaves a pair that does not match:
    /// that counts as no certificate, so a new one is ordered.
    @Test func aKeyThatDoesNotMatchItsChainIsNoCertificate() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = CertificateStorage(root: folder.path)
        let ca = try TestCertificateAuthority()
        let (leaf, key) = try ca.leaf(dnsNames: ["a.test"])
        try storage.save(try StoredCertificate(chainPEM: try leaf.pem, keyPEM: key.pemRepresentation), name: "a.test")
        let (_, otherKey) = try ca.leaf(dnsNames: ["a.test"])
        try AtomicFile.write(Array(otherKey.pemRepresentation.utf8), to: folder.path + "/certificates/a.test/key.pem", mode: 0o600)
        #expect(try storage.certificate(name: "a.test") == nil)
    }

    @Test func namesCannotLeaveTheStorageFolder() {
        #expect(CertificateStorage.fileName(forHost: "../../etc") == "_.._.._etc")
        #expect(CertificateStorage.fileName(forHost: "Shop.Test") == "shop.test")
        #expect(CertificateStorage.fileName(forURL: "https://ca.test:14000/dir/") == "ca.test_14000-dir")
    }
}
