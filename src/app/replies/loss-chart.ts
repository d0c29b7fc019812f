// Loss-per-epoch chart as PNG bytes, drawn in Node without a browser:
// chart.js renders onto an @napi-rs/canvas (Skia) context. Chart.js picks its
// DOM-less platform by itself when there is no `window`.
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type Plugin } from 'chart.js';

Chart.register(...registerables);

export interface LossPoint {
  epoch: number;
  trainLoss: number;
  valLoss: number;
}

const WIDTH = 800;
const HEIGHT = 400;

// Opaque background: a transparent PNG is unreadable on Discord's dark theme.
const whiteBackground: Plugin<'line'> = {
  id: 'whiteBackground',
  beforeDraw: (chart) => {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

export async function renderLossChart(points: readonly LossPoint[], title: string): Promise<Buffer> {
  const canvas = createCanvas(WIDTH, HEIGHT);
  const chart = new Chart(canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart<'line'>>[0], {
    type: 'line',
    data: {
      labels: points.map((p) => p.epoch),
      datasets: [
        { label: 'train loss', data: points.map((p) => p.trainLoss), borderColor: '#3b82f6', backgroundColor: '#3b82f6' },
        { label: 'validation loss', data: points.map((p) => p.valLoss), borderColor: '#ef4444', backgroundColor: '#ef4444' },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: title } },
      scales: {
        x: { title: { display: true, text: 'epoch' } },
        y: { title: { display: true, text: 'loss (nats/char)' } },
      },
    },
    plugins: [whiteBackground],
  });
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}
