import groovy.json.JsonOutput

/**
 * The base of a business rule run outside EPM: the script-level functions
 * EPM gives a rule that the EPMPulse block uses, json(Map) for a request body
 * and throwVetoException(message), which stops the rule with that message.
 * `operation` comes from the binding (EpmConnectionStandIn.operation).
 */
abstract class EpmRuleScript extends Script {
    String json(Map value) { JsonOutput.toJson(value) }

    void throwVetoException(String message) { throw new VetoException(message) }
}
