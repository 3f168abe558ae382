"""Driving WhatsApp Web: page profile, browser driver, send queue, and the humanizer that paces sending."""
