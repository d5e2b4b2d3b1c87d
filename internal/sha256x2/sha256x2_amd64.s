//go:build amd64 && !purego

#include "textflag.h"

// SHA-256 with the SHA extensions (SHA-NI), one or two messages at a time.
//
// One message is bound by the latency of SHA256RNDS2: each one needs the
// state the previous one produced. Two independent messages interleaved
// keep the unit busy while the other waits, so two hashes cost little
// more than one.
//
// The state is kept in the register layout SHA256RNDS2 uses: words 0-3
// are F, E, B, A and words 4-7 are H, G, D, C (see state in sum.go).
//
// Each group of four rounds g = 0..15 uses message words W[4g..4g+3],
// held in register M[g%4]. Groups 0-3 load them from the block; later
// ones compute them with SHA256MSG1/MSG2, one group ahead (SCHED) from
// the partial sum MSG1 left three groups before.

// ROUNDS4 runs four rounds with the message words in m and the round
// constants at koff: SHA256RNDS2 takes W+K for two rounds in X0 and turns
// the (C,D,G,H) operand into the new (A,B,E,F), so the two state
// registers swap roles every two rounds.
#define ROUNDS4(m, koff, s0, s1) \
	MOVOU koff(AX), X0; \
	PADDD m, X0; \
	SHA256RNDS2 X0, s0, s1; \
	PSHUFD $0x0E, X0, X0; \
	SHA256RNDS2 X0, s1, s0

// SCHED finishes the next four message words in next (which holds
// MSG1's partial sum): next += W[t-7] words, taken from prev:cur, then
// MSG2 adds the sigma1 terms from cur.
#define SCHED(next, cur, prev, t) \
	MOVO cur, t; \
	PALIGNR $4, prev, t; \
	PADDD t, next; \
	SHA256MSG2 cur, next

// LOAD reads four big-endian message words.
#define LOAD(off, p, m) \
	MOVOU off(p), m; \
	PSHUFB X15, m

DATA flipMask<>+0(SB)/8, $0x0405060700010203
DATA flipMask<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flipMask<>(SB), RODATA|NOPTR, $16

DATA k<>+0(SB)/8, $0x71374491428a2f98
DATA k<>+8(SB)/8, $0xe9b5dba5b5c0fbcf
DATA k<>+16(SB)/8, $0x59f111f13956c25b
DATA k<>+24(SB)/8, $0xab1c5ed5923f82a4
DATA k<>+32(SB)/8, $0x12835b01d807aa98
DATA k<>+40(SB)/8, $0x550c7dc3243185be
DATA k<>+48(SB)/8, $0x80deb1fe72be5d74
DATA k<>+56(SB)/8, $0xc19bf1749bdc06a7
DATA k<>+64(SB)/8, $0xefbe4786e49b69c1
DATA k<>+72(SB)/8, $0x240ca1cc0fc19dc6
DATA k<>+80(SB)/8, $0x4a7484aa2de92c6f
DATA k<>+88(SB)/8, $0x76f988da5cb0a9dc
DATA k<>+96(SB)/8, $0xa831c66d983e5152
DATA k<>+104(SB)/8, $0xbf597fc7b00327c8
DATA k<>+112(SB)/8, $0xd5a79147c6e00bf3
DATA k<>+120(SB)/8, $0x1429296706ca6351
DATA k<>+128(SB)/8, $0x2e1b213827b70a85
DATA k<>+136(SB)/8, $0x53380d134d2c6dfc
DATA k<>+144(SB)/8, $0x766a0abb650a7354
DATA k<>+152(SB)/8, $0x92722c8581c2c92e
DATA k<>+160(SB)/8, $0xa81a664ba2bfe8a1
DATA k<>+168(SB)/8, $0xc76c51a3c24b8b70
DATA k<>+176(SB)/8, $0xd6990624d192e819
DATA k<>+184(SB)/8, $0x106aa070f40e3585
DATA k<>+192(SB)/8, $0x1e376c0819a4c116
DATA k<>+200(SB)/8, $0x34b0bcb52748774c
DATA k<>+208(SB)/8, $0x4ed8aa4a391c0cb3
DATA k<>+216(SB)/8, $0x682e6ff35b9cca4f
DATA k<>+224(SB)/8, $0x78a5636f748f82ee
DATA k<>+232(SB)/8, $0x8cc7020884c87814
DATA k<>+240(SB)/8, $0xa4506ceb90befffa
DATA k<>+248(SB)/8, $0xc67178f2bef9a3f7
GLOBL k<>(SB), RODATA|NOPTR, $256

// func blocks2(a, b *state, pa, pb *byte, n int)
TEXT ·blocks2(SB), NOSPLIT, $64-40
	MOVQ a+0(FP), DI
	MOVQ b+8(FP), R9
	MOVQ pa+16(FP), SI
	MOVQ pb+24(FP), DX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ done
	LEAQ k<>(SB), AX
	MOVOU flipMask<>(SB), X15
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	MOVOU 0(R9), X8
	MOVOU 16(R9), X9

loop:
	// Keep the state from before the block: it is added back at the end.
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X8, 32(SP)
	MOVOU X9, 48(SP)
	// Rounds 0-3.
	LOAD(0, SI, X3)
	ROUNDS4(X3, 0, X1, X2)
	LOAD(0, DX, X10)
	ROUNDS4(X10, 0, X8, X9)
	// Rounds 4-7.
	LOAD(16, SI, X4)
	ROUNDS4(X4, 16, X1, X2)
	SHA256MSG1 X4, X3
	LOAD(16, DX, X11)
	ROUNDS4(X11, 16, X8, X9)
	SHA256MSG1 X11, X10
	// Rounds 8-11.
	LOAD(32, SI, X5)
	ROUNDS4(X5, 32, X1, X2)
	SHA256MSG1 X5, X4
	LOAD(32, DX, X12)
	ROUNDS4(X12, 32, X8, X9)
	SHA256MSG1 X12, X11
	// Rounds 12-15.
	LOAD(48, SI, X6)
	ROUNDS4(X6, 48, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	LOAD(48, DX, X13)
	ROUNDS4(X13, 48, X8, X9)
	SCHED(X10, X13, X12, X14)
	SHA256MSG1 X13, X12
	// Rounds 16-19.
	ROUNDS4(X3, 64, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	ROUNDS4(X10, 64, X8, X9)
	SCHED(X11, X10, X13, X14)
	SHA256MSG1 X10, X13
	// Rounds 20-23.
	ROUNDS4(X4, 80, X1, X2)
	SCHED(X5, X4, X3, X7)
	SHA256MSG1 X4, X3
	ROUNDS4(X11, 80, X8, X9)
	SCHED(X12, X11, X10, X14)
	SHA256MSG1 X11, X10
	// Rounds 24-27.
	ROUNDS4(X5, 96, X1, X2)
	SCHED(X6, X5, X4, X7)
	SHA256MSG1 X5, X4
	ROUNDS4(X12, 96, X8, X9)
	SCHED(X13, X12, X11, X14)
	SHA256MSG1 X12, X11
	// Rounds 28-31.
	ROUNDS4(X6, 112, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	ROUNDS4(X13, 112, X8, X9)
	SCHED(X10, X13, X12, X14)
	SHA256MSG1 X13, X12
	// Rounds 32-35.
	ROUNDS4(X3, 128, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	ROUNDS4(X10, 128, X8, X9)
	SCHED(X11, X10, X13, X14)
	SHA256MSG1 X10, X13
	// Rounds 36-39.
	ROUNDS4(X4, 144, X1, X2)
	SCHED(X5, X4, X3, X7)
	SHA256MSG1 X4, X3
	ROUNDS4(X11, 144, X8, X9)
	SCHED(X12, X11, X10, X14)
	SHA256MSG1 X11, X10
	// Rounds 40-43.
	ROUNDS4(X5, 160, X1, X2)
	SCHED(X6, X5, X4, X7)
	SHA256MSG1 X5, X4
	ROUNDS4(X12, 160, X8, X9)
	SCHED(X13, X12, X11, X14)
	SHA256MSG1 X12, X11
	// Rounds 44-47.
	ROUNDS4(X6, 176, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	ROUNDS4(X13, 176, X8, X9)
	SCHED(X10, X13, X12, X14)
	SHA256MSG1 X13, X12
	// Rounds 48-51.
	ROUNDS4(X3, 192, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	ROUNDS4(X10, 192, X8, X9)
	SCHED(X11, X10, X13, X14)
	SHA256MSG1 X10, X13
	// Rounds 52-55.
	ROUNDS4(X4, 208, X1, X2)
	SCHED(X5, X4, X3, X7)
	ROUNDS4(X11, 208, X8, X9)
	SCHED(X12, X11, X10, X14)
	// Rounds 56-59.
	ROUNDS4(X5, 224, X1, X2)
	SCHED(X6, X5, X4, X7)
	ROUNDS4(X12, 224, X8, X9)
	SCHED(X13, X12, X11, X14)
	// Rounds 60-63.
	ROUNDS4(X6, 240, X1, X2)
	ROUNDS4(X13, 240, X8, X9)

	MOVOU 0(SP), X0
	PADDD X0, X1
	MOVOU 16(SP), X0
	PADDD X0, X2
	ADDQ $64, SI
	MOVOU 32(SP), X0
	PADDD X0, X8
	MOVOU 48(SP), X0
	PADDD X0, X9
	ADDQ $64, DX
	DECQ CX
	JNZ loop

	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X8, 0(R9)
	MOVOU X9, 16(R9)

done:
	RET

// func blocks1(s *state, p *byte, n int)
TEXT ·blocks1(SB), NOSPLIT, $64-24
	MOVQ s+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ done
	LEAQ k<>(SB), AX
	MOVOU flipMask<>(SB), X15
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2

loop:
	// Keep the state from before the block: it is added back at the end.
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	// Rounds 0-3.
	LOAD(0, SI, X3)
	ROUNDS4(X3, 0, X1, X2)
	// Rounds 4-7.
	LOAD(16, SI, X4)
	ROUNDS4(X4, 16, X1, X2)
	SHA256MSG1 X4, X3
	// Rounds 8-11.
	LOAD(32, SI, X5)
	ROUNDS4(X5, 32, X1, X2)
	SHA256MSG1 X5, X4
	// Rounds 12-15.
	LOAD(48, SI, X6)
	ROUNDS4(X6, 48, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	// Rounds 16-19.
	ROUNDS4(X3, 64, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	// Rounds 20-23.
	ROUNDS4(X4, 80, X1, X2)
	SCHED(X5, X4, X3, X7)
	SHA256MSG1 X4, X3
	// Rounds 24-27.
	ROUNDS4(X5, 96, X1, X2)
	SCHED(X6, X5, X4, X7)
	SHA256MSG1 X5, X4
	// Rounds 28-31.
	ROUNDS4(X6, 112, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	// Rounds 32-35.
	ROUNDS4(X3, 128, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	// Rounds 36-39.
	ROUNDS4(X4, 144, X1, X2)
	SCHED(X5, X4, X3, X7)
	SHA256MSG1 X4, X3
	// Rounds 40-43.
	ROUNDS4(X5, 160, X1, X2)
	SCHED(X6, X5, X4, X7)
	SHA256MSG1 X5, X4
	// Rounds 44-47.
	ROUNDS4(X6, 176, X1, X2)
	SCHED(X3, X6, X5, X7)
	SHA256MSG1 X6, X5
	// Rounds 48-51.
	ROUNDS4(X3, 192, X1, X2)
	SCHED(X4, X3, X6, X7)
	SHA256MSG1 X3, X6
	// Rounds 52-55.
	ROUNDS4(X4, 208, X1, X2)
	SCHED(X5, X4, X3, X7)
	// Rounds 56-59.
	ROUNDS4(X5, 224, X1, X2)
	SCHED(X6, X5, X4, X7)
	// Rounds 60-63.
	ROUNDS4(X6, 240, X1, X2)

	MOVOU 0(SP), X0
	PADDD X0, X1
	MOVOU 16(SP), X0
	PADDD X0, X2
	ADDQ $64, SI
	DECQ CX
	JNZ loop

	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)

done:
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
