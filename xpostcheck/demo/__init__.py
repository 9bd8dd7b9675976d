"""The bundled demo: a publisher corpus and republisher sites served on loopback."""
