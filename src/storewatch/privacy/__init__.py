"""storewatch.privacy: faces blurred and privacy masks blacked out in everything a person sees or exports."""
