import Softswitch
import Testing
import VOSModel

@Suite struct VendorCreditCheckTests {
    func account(_ name: String, balance: String) throws -> Account {
        var account = Account(name: name, kind: .prepaid)
        account.balance = try Money(parsing: balance)
        return account
    }

    @Test func gatewaysOfVendorsUnderTheLimitAreSkipped() throws {
        var parameters = ParameterSet()
        try parameters.set(.verifyClearingCustomer, to: "1")
        try parameters.set(.verifyClearingCustomerRemainMoneyLimit, to: "50")
        let check = VendorCreditCheck(parameters: parameters, accounts: [
            try account("rich", balance: "50.0000"), try account("poor", balance: "49.9999"), try account("owed", balance: "-3"),
        ])
        #expect(check.allows(clearingAccount: "rich"))
        #expect(!check.allows(clearingAccount: "poor"))
        #expect(!check.allows(clearingAccount: "owed"))
        #expect(!check.allows(clearingAccount: "missing"))
        #expect(check.allows(clearingAccount: nil))
    }

    @Test func theCheckIsOffByDefault() throws {
        let check = VendorCreditCheck(parameters: ParameterSet(), accounts: [try account("poor", balance: "-100")])
        #expect(!check.isEnabled)
        #expect(check.allows(clearingAccount: "poor"))
        #expect(check.allows(clearingAccount: "missing"))
    }

    @Test func theAnswerFeedsTheRoutePlannerStatus() throws {
        let check = VendorCreditCheck(isEnabled: true, remainMoneyLimit: Money(whole: 10), balances: ["poor": Money(whole: 1)])
        var gateway = RoutingGateway(name: "gw1", address: SIPAddress(host: "198.51.100.7"), prefixes: ["86"])
        gateway.clearingAccount = "poor"
        let status = GatewayStatus(vendorCreditOK: check.allows(gateway))
        #expect(!status.vendorCreditOK)
    }
}
