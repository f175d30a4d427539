/** What EpmRuleScript.throwVetoException throws: the rule stops with the message. */
class VetoException extends RuntimeException {
    VetoException(String message) { super(message) }
}
