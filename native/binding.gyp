{
  "targets": [
    {
      "target_name": "secret_group_native",
      "sources": ["addon.c", "aead.c", "hmac.c", "ed25519.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-fvisibility=hidden"]
    }
  ]
}
