// The owner portal: units and bills, online payment and receipts, statements, the fund,
// repair tickets, notices and votes.
import { page } from './app.js';
