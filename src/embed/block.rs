//! The quantised block format of the model file (ggml `Q4_0`), in one place so that the loader,
//! the word-embedding lookup and the matrix kernels agree on it: 32 values per block, stored as an
//! f16 scale and 16 bytes of which byte `j` holds value `j` in its low nibble and value `j + 16` in
//! its high nibble, both offset by 8.

/// Values per quantisation block (ggml `QK4_0` / `QK8_0`).
pub(super) const BLOCK: usize = 32;

/// Bytes per `Q4_0` block: the f16 scale and 16 bytes of nibbles.
pub(super) const Q4_BLOCK: usize = 18;

/// An IEEE half-precision value (the block scales) as f32, exactly.
pub(super) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // Subnormal: man · 2^-24. Shifting the leading one up to bit 10 takes `shifts` steps
            // and leaves 1.f · 2^(-14 - shifts).
            let mut shifts = 0u32;
            let mut m = man;
            while m & 0x400 == 0 {
                m <<= 1;
                shifts += 1;
            }
            sign | ((127 - 14 - shifts) << 23) | ((m & 0x3ff) << 13)
        }
    } else if exp == 31 {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 127 - 15) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// The scale of one `Q4_0` block.
pub(super) fn block_scale(block: &[u8]) -> f32 {
    f16_to_f32(u16::from_le_bytes([block[0], block[1]]))
}

/// Unpacks `Q4_0` blocks into one byte per value (`w + 8`, in `[0, 15]`) and one scale per block,
/// appended to `unsigned` and `scales`.
pub(super) fn unpack_q4_0(bytes: &[u8], unsigned: &mut Vec<u8>, scales: &mut Vec<f32>) {
    for block in bytes.chunks_exact(Q4_BLOCK) {
        scales.push(block_scale(block));
        let quants = &block[2..];
        unsigned.extend(quants.iter().map(|&q| q & 0x0f));
        unsigned.extend(quants.iter().map(|&q| q >> 4));
    }
}

/// Adds the dequantised `Q4_0` row in `blocks` (`out.len()` values) into `out`.
pub(super) fn add_q4_row(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks.chunks_exact(Q4_BLOCK).zip(out.chunks_exact_mut(BLOCK)) {
        let d = block_scale(b);
        for j in 0..16 {
            let q = b[2 + j];
            o[j] += ((q & 0x0f) as i32 - 8) as f32 * d;
            o[j + 16] += ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24), "smallest subnormal");
        assert_eq!(f16_to_f32(0x0200), 2f32.powi(-15));
        assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24), "largest subnormal");
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14), "smallest normal");
        assert_eq!(f16_to_f32(0x7bff), 65504.0, "largest finite");
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn a_row_dequantises_as_it_unpacks() {
        // Scale 0.5 (0x3800); nibbles 0..15 in the low halves, 15..0 in the high halves.
        let mut block = vec![0x00, 0x38];
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let mut out = vec![1.0f32; BLOCK];
        add_q4_row(&block, &mut out);
        let (mut unsigned, mut scales) = (Vec::new(), Vec::new());
        unpack_q4_0(&block, &mut unsigned, &mut scales);
        assert_eq!(scales, vec![0.5]);
        for (j, (&o, &u)) in out.iter().zip(&unsigned).enumerate() {
            assert_eq!(o, 1.0 + (f32::from(u) - 8.0) * 0.5, "value {j}");
        }
        assert_eq!(&unsigned[..3], &[0, 1, 2]);
        assert_eq!(&unsigned[16..19], &[15, 14, 13]);
    }
}
