/** A push that did not reach EPMPulse, thrown by a strict EpmPulseClient. */
class EpmPulseException extends RuntimeException {
    EpmPulseException(String message) { super(message) }
}
