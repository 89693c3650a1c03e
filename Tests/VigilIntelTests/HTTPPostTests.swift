import XCTest
import VigilHTTP

final class HTTPPostTests: XCTestCase {
    func testRefusesNonHTTPURLsAndHeaderInjection() {
        XCTAssertThrowsError(try HTTPClient.post(HTTPPost(url: "file:///etc/passwd"))) { e in
            XCTAssertEqual((e as? HTTPError)?.code, .invalidURL)
        }
        XCTAssertThrowsError(try HTTPClient.post(HTTPPost(url: "http://127.0.0.1:9/x", headers: [("X-A", "b\r\nX-Evil: 1")]))) { e in
            XCTAssertEqual((e as? HTTPError)?.code, .invalidURL)
        }
    }

    func testConnectionRefusedIsATransportError() {
        var p = HTTPPost(url: "http://127.0.0.1:9/x")
        p.timeoutMs = 2000
        XCTAssertThrowsError(try HTTPClient.post(p)) { e in XCTAssertEqual((e as? HTTPError)?.code, .transport, "\(e)") }
    }

    func testSMTPRefusesBadAddressesBeforeConnecting() {
        XCTAssertThrowsError(try HTTPClient.sendMail(SMTPMessage(from: "a@b.c", recipients: ["x@y.z>\r\nRCPT TO:<evil@z"], data: []),
                                                     via: SMTPServer(url: "smtp://127.0.0.1:9"))) { e in
            XCTAssertEqual((e as? SMTPError)?.code, .invalidAddress)
        }
        XCTAssertThrowsError(try HTTPClient.sendMail(SMTPMessage(from: "a@b.c", recipients: ["x@y.z"], data: []),
                                                     via: SMTPServer(url: "http://127.0.0.1:9"))) { e in
            XCTAssertEqual((e as? SMTPError)?.code, .invalidURL)
        }
    }
}
