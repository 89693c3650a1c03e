import Foundation
import XCTest
import VigilRules
import VigilSigma
import VigilWire

final class ModifierTests: XCTestCase {
    func m(_ key: String, _ value: String, _ data: [String: String]) throws -> Bool {
        try S.matches("s:\n    \(key): \(value)\ncondition: s", S.proc(data))
    }

    func testContainsStartsEndsWith() throws {
        XCTAssertTrue(try m("CommandLine|contains", "'-enc '", ["CommandLine": "powershell -ENC abc"]))
        XCTAssertTrue(try m("CommandLine|startswith", "'power'", ["CommandLine": "PowerShell -c"]))
        XCTAssertFalse(try m("CommandLine|startswith", "'shell'", ["CommandLine": "PowerShell -c"]))
        XCTAssertTrue(try m("Image|endswith", "'\\cmd.exe'", ["Image": "C:\\x\\CMD.exe"]))
        XCTAssertFalse(try m("Image|endswith", "'\\cmd.exe'", ["Image": "C:\\x\\cmd.exe.bak"]))
    }

    func testCased() throws {
        XCTAssertTrue(try m("CommandLine|contains|cased", "'AbC'", ["CommandLine": "xAbCx"]))
        XCTAssertFalse(try m("CommandLine|contains|cased", "'AbC'", ["CommandLine": "xabcx"]))
    }

    func testRegexAndFlags() throws {
        XCTAssertTrue(try m("CommandLine|re", "'^cmd\\s+/c\\s+\\w+$'", ["CommandLine": "cmd /c dir"]))
        XCTAssertFalse(try m("CommandLine|re", "'^cmd /c'", ["CommandLine": "CMD /c dir"]), "re is case-sensitive by default")
        XCTAssertTrue(try m("CommandLine|re|i", "'^cmd /c'", ["CommandLine": "CMD /c dir"]))
        XCTAssertTrue(try m("CommandLine|re", "'.{10,}'", ["CommandLine": "0123456789"]))
        XCTAssertFalse(try m("CommandLine|re", "'.{10,}'", ["CommandLine": "012345678"]))
    }

    func testCidr() throws {
        XCTAssertTrue(try S.fire(try S.one(S.rule("s:\n    DestinationIp|cidr: '10.0.0.0/8'\ncondition: s")), [S.proc(["DestinationIp": "10.2.3.4"])]) == 1)
        XCTAssertFalse(try m("DestinationIp|cidr", "'10.0.0.0/8'", ["DestinationIp": "11.2.3.4"]))
        XCTAssertTrue(try m("DestinationIp|cidr", "'fe80::/10'", ["DestinationIp": "fe80::1"]))
    }

    func testNumericComparisons() throws {
        XCTAssertTrue(try m("Size|gt", "100", ["Size": "101"]))
        XCTAssertFalse(try m("Size|gt", "100", ["Size": "100"]))
        XCTAssertTrue(try m("Size|gte", "100", ["Size": "100"]))
        XCTAssertTrue(try m("Size|lt", "100", ["Size": "99.5"]))
        XCTAssertTrue(try m("Size|lte", "100", ["Size": "100"]))
        XCTAssertFalse(try m("Size|lt", "100", ["Size": "abc"]))
    }

    func testExistsAndFieldref() throws {
        XCTAssertTrue(try m("ParentUser|exists", "true", ["ParentUser": "x"]))
        XCTAssertFalse(try m("ParentUser|exists", "true", ["User": "x"]))
        XCTAssertTrue(try m("ParentUser|exists", "false", ["User": "x"]))
        XCTAssertTrue(try m("User|fieldref", "ParentUser", ["User": "Bob", "ParentUser": "bob"]))
        XCTAssertFalse(try m("User|fieldref", "ParentUser", ["User": "bob", "ParentUser": "alice"]))
    }

    func testBase64AndBase64Offset() throws {
        let b64 = Data("whoami".utf8).base64EncodedString()
        XCTAssertTrue(try m("CommandLine|base64|contains", "'whoami'", ["CommandLine": "x \(b64) y"]))
        // The value at every byte offset inside a longer encoded text.
        for prefix in ["", "a", "ab"] {
            let enc = Data((prefix + "whoami /all").utf8).base64EncodedString()
            XCTAssertTrue(try m("CommandLine|base64offset|contains", "'whoami'", ["CommandLine": "-e \(enc)"]), "offset \(prefix.count)")
        }
        XCTAssertFalse(try m("CommandLine|base64offset|contains", "'whoami'", ["CommandLine": Data("hostname".utf8).base64EncodedString()]))
    }

    func testWideWithBase64Offset() throws {
        // PowerShell -EncodedCommand is base64 of UTF-16LE.
        func utf16le(_ s: String) -> Data { Data(s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) }
        for prefix in ["", "x", "xy"] {
            let enc = utf16le(prefix + "Invoke-Mimikatz").base64EncodedString()
            XCTAssertTrue(try m("CommandLine|wide|base64offset|contains", "'Invoke-Mimikatz'", ["CommandLine": "powershell -enc \(enc)"]), "offset \(prefix.count)")
        }
        let plain = Data((" Invoke-Mimikatz").utf8).base64EncodedString()
        XCTAssertFalse(try m("CommandLine|wide|base64offset|contains", "'Invoke-Mimikatz'", ["CommandLine": plain]), "UTF-8 base64 is not UTF-16")
    }

    func testWindash() throws {
        for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
            XCTAssertTrue(try m("CommandLine|windash|contains", "' -exec bypass'", ["CommandLine": "powershell \(dash)exec bypass"]), dash)
        }
        XCTAssertFalse(try m("CommandLine|windash|contains", "' -exec bypass'", ["CommandLine": "powershell +exec bypass"]))
    }
}
