/**
 * Marching squares: the level set of a gridded function as line segments, for drawing the exact
 * posterior's contours on the demo canvas.
 */

/**
 * Segments of {f = level} over an nx × ny grid (row-major, row j at y index j), in grid coordinates
 * (i, j) as a flat list [x₀, y₀, x₁, y₁, …] of segment end points. Each cell's edges are cut by
 * linear interpolation; the two saddle cases are resolved by the cell-centre average.
 */
export function contourSegments(values: Float64Array, nx: number, ny: number, level: number): number[] {
  if (values.length !== nx * ny) throw new RangeError(`contourSegments: ${values.length} values for a ${nx}×${ny} grid`);
  const out: number[] = [];
  const cut = (a: number, b: number): number => (level - a) / (b - a);
  for (let j = 0; j + 1 < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const v00 = values[j * nx + i];
      const v10 = values[j * nx + i + 1];
      const v11 = values[(j + 1) * nx + i + 1];
      const v01 = values[(j + 1) * nx + i];
      const code = (v00 > level ? 1 : 0) | (v10 > level ? 2 : 0) | (v11 > level ? 4 : 0) | (v01 > level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      // Edge crossings: bottom (00–10), right (10–11), top (01–11), left (00–01).
      const bottom = [i + cut(v00, v10), j];
      const right = [i + 1, j + cut(v10, v11)];
      const top = [i + cut(v01, v11), j + 1];
      const left = [i, j + cut(v00, v01)];
      const add = (p: number[], q: number[]) => out.push(p[0], p[1], q[0], q[1]);
      const centreAbove = (v00 + v10 + v11 + v01) / 4 > level;
      switch (code) {
        case 1: case 14: add(left, bottom); break;
        case 2: case 13: add(bottom, right); break;
        case 3: case 12: add(left, right); break;
        case 4: case 11: add(right, top); break;
        case 6: case 9: add(bottom, top); break;
        case 7: case 8: add(left, top); break;
        case 5:
          if (centreAbove) { add(left, top); add(bottom, right); } else { add(left, bottom); add(right, top); }
          break;
        case 10:
          if (centreAbove) { add(left, bottom); add(right, top); } else { add(left, top); add(bottom, right); }
          break;
      }
    }
  }
  return out;
}
