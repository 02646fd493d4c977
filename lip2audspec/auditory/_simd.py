"""Explicit-SIMD IIR kernel for the cochlear filter bank (an LLVM intrinsic for numba).

``block_iir`` runs the transposed direct form II recursion (MATLAB ``filter`` / SciPy ``lfilter``) of
one block of ``LANES`` = 8 adjacent channels over a chunk of samples, with the whole block held in
``<8 x double>`` vector registers: the states live in SSA registers (allocas that LLVM promotes), the
coefficients are loaded once per chunk, and each sample costs ``2 * order + 1`` vector FMAs. Eight
channels' recursions thus advance together and the per-sample dependency chain (two FMA latencies)
overlaps across blocks. The loop body is specialised for every order a COCHBA block uses (:data:`ORDERS`)
through a ``switch`` on the block's order, so there is no inner loop over levels.

Why an intrinsic: numba cannot tell LLVM that its arrays do not alias, so neither the loop nor the SLP
vectoriser will pack the 8-lane state updates; emitting the vector IR ourselves sidesteps that.

Arithmetic per sample and lane, with ``x`` the input (shared by all channels in the forward cochlea, one
per channel in aud2wav's inverse) and ``z_p = 0``::

    y   = fma(b0, x, z0)
    z_i = fma(-a_{i+1}, y, fma(b_{i+1}, x, z_{i+1}))      i = 0 .. p-1

which is lfilter's recursion with its multiply-adds fused (differences ~1e-16 relative).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8
#: highest IIR order in COCHBA (the coefficient arrays have PMAX + 1 levels)
PMAX = 24


def _block_orders() -> tuple:
    """The orders the 8-channel blocks of COCHBA run (the largest order in each block), ascending."""
    import numpy as np

    from .filterbank import load_cochba

    orders = np.round(load_cochba()[0].real).astype(int)
    return tuple(sorted({int(orders[k : k + LANES].max()) for k in range(0, len(orders), LANES)}))


#: the orders the loop body is specialised for: only those COCHBA's blocks use (10 of 1..24), which
#: keeps the generated code, and so the first-call compile time, 2.4x smaller than all of 1..PMAX
ORDERS = _block_orders()


def _block_iir_codegen(vector_input: bool, accumulate: bool, scaled: bool = False):
    def codegen(context, builder, sig, args):
        tys = sig.args
        f64 = ir.DoubleType()
        vt = ir.VectorType(f64, LANES)
        vp = vt.as_pointer()
        i64 = ir.IntType(64)
        ax, ay, ab, aa, az = (context.make_array(tys[i])(context, builder, value=args[i]) for i in range(5))
        kk, nn, pp = args[5], args[6], args[7]
        if accumulate:  # scale: float64[1], broadcast
            w_arr = context.make_array(tys[8])(context, builder, value=args[8])
            w_s = builder.load(w_arr.data)
        lanes = ir.Constant(i64, LANES)
        coef_row = builder.udiv(builder.extract_value(ab.shape, 1), lanes)  # vectors per row
        y_row = None if accumulate else builder.udiv(builder.extract_value(ay.shape, 1), lanes)
        pb, pa, pz, py = (builder.bitcast(arr.data, vp) for arr in (ab, aa, az, ay))
        if vector_input:
            x_row = builder.udiv(builder.extract_value(ax.shape, 1), lanes)
            px = builder.bitcast(ax.data, vp)
        else:
            px = ax.data
        if scaled:  # x[n - 1 - t] * s[frow[n - 1 - t]] (time reversed, scaled per frame)
            a_s = context.make_array(tys[9])(context, builder, value=args[9])
            a_fr = context.make_array(tys[10])(context, builder, value=args[10])
            s_row = builder.udiv(builder.extract_value(a_s.shape, 1), lanes)
            ps = builder.bitcast(a_s.data, vp)
            last = builder.sub(nn, ir.Constant(i64, 1))
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt, vt, vt]), "llvm.fma.v8f64")
        undef = ir.Constant(vt, ir.Undefined)
        splat = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        if accumulate:
            wv = builder.shuffle_vector(builder.insert_element(undef, w_s, ir.Constant(ir.IntType(32), 0)), undef, splat)

        def at(ptr, row, stride):
            return builder.gep(ptr, [builder.add(builder.mul(row, stride), kk)])

        def const(i):
            return ir.Constant(i64, i)

        states = [cgutils.alloca_once(builder, vt) for _ in range(PMAX)]
        done = builder.append_basic_block("iir.done")
        switch = builder.switch(pp, done)
        for p in ORDERS:
            block = builder.append_basic_block(f"iir.order{p}")
            switch.add_case(ir.Constant(pp.type, p), block)
            builder.position_at_end(block)
            bv = [builder.load(at(pb, const(i), coef_row), align=8) for i in range(p + 1)]
            av = [builder.load(at(pa, const(i), coef_row), align=8) for i in range(p + 1)]
            for i in range(p):
                builder.store(builder.load(at(pz, const(i), coef_row), align=8), states[i])
            with cgutils.for_range(builder, nn) as loop:
                t = loop.index
                if scaled:
                    r = builder.sub(last, t)
                    fr = builder.load(builder.gep(a_fr.data, [r]))
                    xv = builder.fmul(builder.load(at(px, r, x_row), align=8), builder.load(at(ps, fr, s_row), align=8))
                elif vector_input:
                    xv = builder.load(at(px, t, x_row), align=8)
                else:
                    xs = builder.load(builder.gep(px, [t]))
                    xv = builder.shuffle_vector(builder.insert_element(undef, xs, ir.Constant(ir.IntType(32), 0)), undef, splat)
                yv = builder.call(fma, [bv[0], xv, builder.load(states[0])])
                if accumulate:  # y[t, :] += w * lanes (per-lane partial sums over blocks)
                    dst = builder.gep(py, [t])
                    builder.store(builder.call(fma, [yv, wv, builder.load(dst, align=8)]), dst, align=8)
                else:
                    builder.store(yv, at(py, t, y_row), align=8)
                neg_y = builder.fneg(yv)
                for i in range(p - 1):
                    partial = builder.call(fma, [bv[i + 1], xv, builder.load(states[i + 1])])
                    builder.store(builder.call(fma, [av[i + 1], neg_y, partial]), states[i])
                builder.store(builder.call(fma, [av[p], neg_y, builder.fmul(bv[p], xv)]), states[p - 1])
            for i in range(p):
                builder.store(builder.load(states[i]), at(pz, const(i), coef_row), align=8)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return codegen


@intrinsic
def block_iir(typingctx, x, y, b, a, z, k, n, p):
    """Filter ``n`` samples of channel block ``k`` (channels ``8k .. 8k+7``) with order ``p``.

    Parameters (numba types)
    ------------------------
    x : float64[:] (shared input, broadcast to the lanes) or float64[:, ::1] (n, MP) per-channel input
    y : float64[:, ::1] (>= n, MP), output rows; lanes 8k..8k+7 of rows 0..n-1 are written
    b, a : float64[:, ::1] (PMAX + 1, MP), coefficients by level (a[0] == 1 is not used)
    z : float64[:, ::1] (PMAX + 1, MP), filter states, read before and written after the chunk
    k, n, p : int64
    Orders not in :data:`ORDERS` do nothing (:func:`_kernels.block_coefficients` checks that none occurs).
    """
    vector_input = isinstance(x, types.Array) and x.ndim == 2
    return types.void(x, y, b, a, z, k, n, p), _block_iir_codegen(vector_input, False)



@intrinsic
def block_iir_sum(typingctx, x, y, b, a, z, k, n, p, scale):
    """:func:`block_iir` that, instead of storing its 8 lanes, accumulates them into ``y``, a
    float64[:, ::1] (>= n, 8) array of per-lane partial sums: ``y[t, l] += scale[0] * lane l``.
    Summing ``y[t]`` over lanes afterwards gives the sum over all blocks' channels."""
    vector_input = isinstance(x, types.Array) and x.ndim == 2
    return types.void(x, y, b, a, z, k, n, p, scale), _block_iir_codegen(vector_input, True)


@intrinsic
def block_iir_sum_scaled(typingctx, x, y, b, a, z, k, n, p, scale, s, frow):
    """:func:`block_iir_sum` whose input sample ``t`` is ``x[n - 1 - t] * s[frow[n - 1 - t]]``, lanes of
    block ``k``: aud2wav's inverse of a linear hair cell reading the stored y3 of a chunk (``x``,
    float64[:, ::1] (>= n, W)) time-reversed and scaled by its frame's row of ``s`` (float64[:, ::1]
    (N, W)), ``frow`` int64[::1] the frame of each row, without an intermediate copy. The product is
    rounded once, as a separate multiplication would be."""
    return types.void(x, y, b, a, z, k, n, p, scale, s, frow), _block_iir_codegen(True, True, True)


@intrinsic
def stream_y3(typingctx, dst, row, y, lo, hi):
    """``dst[row, ch] = y[ch] - y[ch + 1]`` for ``lo <= ch < hi`` with non-temporal (streaming) stores,
    8 lanes at a time: the lateral inhibition y3 of one sample, written for much later.

    aud2wav keeps the forward pass's y3 for the inverse: streaming stores bypass the caches and skip
    the read-for-ownership of the lines they fill (5x faster than plain stores here). ``dst`` is
    float64[:, ::1] with 64-byte aligned rows (base aligned, row length a multiple of 8); ``y``
    float64[::1] with at least ``hi + 1`` elements; ``lo`` and ``hi`` multiples of 8. Call
    :func:`store_fence` before another thread reads ``dst``.
    """

    def codegen(context, builder, sig, args):
        d = context.make_array(sig.args[0])(context, builder, value=args[0])
        src = context.make_array(sig.args[2])(context, builder, value=args[2])
        vt = ir.VectorType(ir.DoubleType(), LANES)
        i64 = ir.IntType(64)
        base = builder.mul(args[1], builder.extract_value(d.shape, 1))
        nt = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])

        def vload(idx):
            return builder.load(builder.bitcast(builder.gep(src.data, [idx]), vt.as_pointer()), align=8)

        with cgutils.for_range_slice(builder, args[3], args[4], ir.Constant(i64, LANES)) as (col, _):
            v = builder.fsub(vload(col), vload(builder.add(col, ir.Constant(i64, 1))))
            st = builder.store(v, builder.bitcast(builder.gep(d.data, [builder.add(base, col)]), vt.as_pointer()), align=64)
            st.set_metadata("nontemporal", nt)
        return context.get_dummy_value()

    return types.void(dst, row, y, lo, hi), codegen


@intrinsic
def store_fence(typingctx):
    """A sequentially consistent fence: orders the streaming stores of :func:`stream_y3` before
    what follows."""

    def codegen(context, builder, sig, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen
