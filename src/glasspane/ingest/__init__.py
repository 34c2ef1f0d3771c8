"""HTTP receivers for the SDKs: authenticate, bound, decode, hand to the writer."""
