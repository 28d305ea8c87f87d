"""The citizen finder: from an address or a point to municipality, district and offices, with
opening hours, calendars and the offline geocoder chain; ``/finder``, ``/api/locate``, ``.ics``."""
