import type { ProductsService } from '../backend/catalogue/products.ts';
import type { DevicesService } from '../backend/devices/devices.ts';
import type { AccountsService } from '../payserver/accounts/accounts-service.ts';

/**
 * The demo catalogue: the patent's monthly and yearly memberships, a 4K membership that renews (连续包月), and a smaller
 * package.
 */
export const DEMO_PRODUCTS = [
  {
    productId: 'vip-month',
    title: '会员包月',
    description: '全站影视剧集免广告观看，30天。',
    localized: { en: { title: 'VIP, one month', description: 'Every film and series, without ads, for 30 days.' } },
    amountMinor: 2500,
    currency: 'CNY',
    service: 'vip',
    durationDays: 30,
    renews: false,
  },
  {
    productId: 'vip-year',
    title: '会员包年',
    description: '全站影视剧集免广告观看，一整年，比包月省三成。',
    localized: {
      en: {
        title: 'VIP, one year',
        description: 'Every film and series, without ads, for a whole year: a third less than monthly.',
      },
    },
    amountMinor: 20000,
    currency: 'CNY',
    service: 'vip',
    durationDays: 365,
    renews: false,
  },
  {
    productId: 'uhd-monthly',
    title: '4K会员连续包月',
    description: '4K超高清与杜比音效片库，每月自动续费，可随时取消。',
    localized: {
      en: {
        title: '4K membership, monthly',
        description: 'The 4K and Dolby library, renewing every month; cancel any time.',
      },
    },
    amountMinor: 3000,
    currency: 'CNY',
    service: 'uhd',
    durationDays: 30,
    renews: true,
  },
  {
    productId: 'kids-app',
    title: '少儿动画应用',
    description: '无广告的少儿动画与儿歌，90天。',
    localized: {
      en: { title: 'Kids cartoons app', description: 'Cartoons and songs for children, without ads, for 90 days.' },
    },
    amountMinor: 990,
    currency: 'CNY',
    service: 'kids',
    durationDays: 90,
    renews: false,
  },
] as const;

/**
 * Demo wallets, one for each path of the patent: bound and the wallet covers;
 * bound, the wallet short and the card covers; bound and both short; not
 * bound (pays on the checkout page).
 */
export const DEMO_ACCOUNTS = [
  demoAccount('13800138000', 50000, ['1234', 100000], true),
  demoAccount('13900139000', 1000, ['5678', 100000], true),
  demoAccount('13700137000', 100, ['9012', 200], true),
  demoAccount('13600136000', 50000, ['3456', 50000], false),
];

/** One demo account (amounts in fen): its wallet, its linked card (last four digits, balance), whether it is bound. */
function demoAccount(phone: string, walletMinor: number, [last4, balanceMinor]: [string, number], quickPay: boolean) {
  return { phone, currency: 'CNY', walletMinor, card: { last4, balanceMinor }, quickPay };
}

export async function seedBackend(
  products: ProductsService,
  devices: DevicesService,
): Promise<{ deviceId: string; token: string }> {
  for (const { productId, ...p } of DEMO_PRODUCTS) await products.put(productId, p);
  return devices.create('Living-room TV (demo)', 'subscriber-demo');
}

export async function seedPayserver(accounts: AccountsService): Promise<void> {
  for (const a of DEMO_ACCOUNTS) await accounts.create({ ...a, card: { ...a.card } });
}
