// SPDX-License-Identifier: MIT
// mongoose's build configuration, the same for every host so that what the
// simulator accepts a device accepts too. Hosts add only their arch settings.
#ifndef XM_MG_CONFIG_H
#define XM_MG_CONFIG_H

#define MG_TLS MG_TLS_BUILTIN
#define MG_ENABLE_PACKED_FS 0
#define MG_ENABLE_IPV6 1
// mongoose's default is 3 MiB per connection: more than a device has in all.
#define MG_MAX_RECV_SIZE (256 * 1024)

// A TLS server's CertificateVerify signature (ECDSA P-256) whose r and s mongoose
// 7.23 can write as DER. It writes each as 32 bytes, adding a zero byte before a
// high bit but never dropping a leading zero, so when r or s starts with a zero
// byte and the next is below 0x80, the integer is not minimal and OpenSSL clients
// refuse the handshake ("bad signature": about one handshake in 256). Such a
// signature is made again with a random nonce (mg_uecc_sign), which gives another
// r and s. firmware/deps.mjs points mongoose's one call there (its only edit of
// mongoose.c); mongoose.h, which declares both signers, is included by then.
#define XM_MG_DER_WRITABLE(sig) (((sig)[0] || ((sig)[1] & 0x80)) && ((sig)[32] || ((sig)[33] & 0x80)))
#define XM_MG_TLS_SIGN(key, hash, size, ctx, sig, curve) ({ \
	int ok_ = mg_uecc_sign_deterministic(key, hash, size, ctx, sig, curve); \
	while (ok_ && !XM_MG_DER_WRITABLE(sig)) \
		ok_ = mg_uecc_sign(key, hash, size, sig, curve); \
	ok_; })

#endif
