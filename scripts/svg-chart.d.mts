export interface BarRow {
  label: string;
  /** Stacked parts, left to right (one for a plain bar). */
  parts: number[];
  /** Drawn in the highlight colour. */
  ours?: boolean;
}
export declare function barChart(options: { title: string; unit: string; rows: BarRow[]; parts?: string[]; width?: number }): string;
export declare function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Array<{ label: string; points: Array<[number, number]> }>;
  width?: number;
  height?: number;
}): string;
