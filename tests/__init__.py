import os

# One digest key for the whole suite (keyguard.digest): golden reports hold keyed digests, and
# no test run writes a key file into the real user's config directory. Not a secret: a test key.
os.environ.setdefault("KEYGUARD_DIGEST_KEY", "keyguard-test-suite-digest-key")
